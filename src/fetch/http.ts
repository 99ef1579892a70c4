/** http:// and https:// providers: GET the expanded template through the shared client, bounded (http-download.ts). */
import { redactUrl } from './http-client.js';
import { httpDownload, httpLimits } from './http-download.js';
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
    return httpDownload(expandTemplate(this.template, target), { ...httpLimits(this.ctx), signal });
  }
}

export const httpProviderFactory: ProviderFactory = (template, ctx) =>
  /^https?:\/\//i.test(template) ? new HttpProvider(template, ctx) : undefined;
