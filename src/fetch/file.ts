/** file:// providers: a local mirror, `file:///srv/mirror/{{.Name}}` or just the base directory. */
import { fileURLToPath } from 'node:url';
import { PingetError, reasonOf } from '../errors.js';
import { openRegular } from '../fs-safe.js';
import { expandTemplate, normalizeTemplate } from './template.js';
import type { FetchBody, FetchTarget, Provider, ProviderFactory } from './types.js';

export class FileProvider implements Provider {
  readonly label: string;
  private readonly template: string;

  constructor(template: string) {
    this.label = template;
    this.template = normalizeTemplate(template);
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    signal.throwIfAborted();
    let file: string;
    try {
      file = fileURLToPath(expandTemplate(this.template, target));
    } catch (e) {
      if (e instanceof PingetError) throw e;
      throw new PingetError('USAGE', `provider template "${this.label}": not a usable file:// URL (${reasonOf(e)}); use file:///absolute/dir/{{.Name}}`, { cause: e });
    }
    // A FIFO, a device or a symlink to one is refused (exit 2) instead of blocking in open(2) or reading forever.
    const fh = await openRegular(file, 'NOT_FOUND');
    try {
      const st = await fh.stat();
      return { stream: fh.createReadStream({ highWaterMark: 1 << 20, signal }), size: st.size };
    } catch (e) {
      await fh.close();
      throw new PingetError('UNAVAILABLE', `${file}: ${reasonOf(e)}`, { cause: e });
    }
  }
}

export const fileProviderFactory: ProviderFactory = (template) => (/^file:\/\//i.test(template) ? new FileProvider(template) : undefined);
