/** http:// and https:// providers: GET the expanded template through the shared client, bounded (http-download.ts). */
import { redactUrl } from './http-client.js';
import { httpDownload } from './http-download.js';
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

  open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    const { timeoutMs, connectTimeoutMs, retries, maxBytes, speedLimit, spoolDir } = this.ctx;
    return httpDownload(expandTemplate(this.template, target), { signal, timeoutMs, connectTimeoutMs, retries, maxBytes, speedLimit, spoolDir });
  }
}

export const httpProviderFactory: ProviderFactory = (template, ctx) =>
  /^https?:\/\//i.test(template) ? new HttpProvider(template, ctx) : undefined;
