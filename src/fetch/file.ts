/** file:// providers: a local mirror, `file:///srv/mirror/{{.Name}}` or just the base directory. */
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PingetError, reasonOf } from '../errors.js';
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
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new PingetError('NOT_FOUND', `${file}: no such file`, { cause: e });
      throw new PingetError('UNAVAILABLE', `${file}: ${reasonOf(e)}`, { cause: e });
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new PingetError('NOT_FOUND', `${file}: not a regular file`);
      return { stream: fh.createReadStream({ highWaterMark: 1 << 20, signal }), size: st.size };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }
}

export const fileProviderFactory: ProviderFactory = (template) => (/^file:\/\//i.test(template) ? new FileProvider(template) : undefined);
