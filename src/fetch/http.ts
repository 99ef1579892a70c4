/** http:// and https:// providers: GET the expanded template through the shared client. */
import { PingetError } from '../errors.js';
import { httpRequest, redactUrl } from './http-client.js';
import { expandTemplate, normalizeTemplate } from './template.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext, ProviderFactory } from './types.js';

export class HttpProvider implements Provider {
  readonly label: string;
  private readonly template: string;

  constructor(
    template: string,
    private readonly ctx: ProviderContext,
  ) {
    this.template = normalizeTemplate(template);
    this.label = redactUrl(template);
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    const url = expandTemplate(this.template, target);
    const res = await httpRequest(url, { signal, timeoutMs: this.ctx.timeoutMs, retries: this.ctx.retries });
    if (res.status < 200 || res.status > 299) {
      // A short error page: read and drop it so the connection can be reused.
      await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
      const where = `${redactUrl(url)}: HTTP ${res.status}`;
      if (res.status === 404 || res.status === 410) throw new PingetError('NOT_FOUND', where);
      const tries = res.attempts > 1 ? ` after ${res.attempts} attempts` : '';
      throw new PingetError('UNAVAILABLE', `${where}${tries}`);
    }
    const length = Number(res.headers['content-length']);
    return { stream: res.body, size: Number.isSafeInteger(length) && length >= 0 ? length : undefined };
  }
}

export const httpProviderFactory: ProviderFactory = (template, ctx) =>
  /^https?:\/\//i.test(template) ? new HttpProvider(template, ctx) : undefined;
