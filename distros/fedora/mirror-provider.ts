/**
 * `rpm-md+<baseurl>/`: a provider for an rpm-md repository (a Fedora mirror, a RHEL-like's repo, any
 * createrepo_c output). Mirrors do not use Koji's layout, so the provider reads the repository's own
 * repomd.xml and primary.xml once and finds each file by its sha256; files the metadata does not list are
 * tried at Fedora's mirror layout, `Packages/<first letter>/<file>`. No signature is needed here: the
 * bytes are checked against the lockfile's hash by the caller.
 */
import { createHash } from 'node:crypto';
import { decompress } from '../../src/decompress.js';
import { PingetError } from '../../src/errors.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { httpDownload, httpGetBytes, httpLimits } from '../../src/fetch/http-download.js';
import { encodePath } from '../../src/fetch/template.js';
import type { FetchBody, FetchTarget, Provider, ProviderContext, ProviderFactory } from '../../src/fetch/types.js';
import { basename } from '../../src/lockfile.js';
import { parsePrimary, parseRepomd } from './repodata.js';

export const RPM_MD_SCHEME = 'rpm-md+';
/** repomd.xml and primary metadata: Fedora's largest primary is some tens of MB. */
const METADATA_MAX_BYTES = 512 << 20;

export class RpmMdProvider implements Provider {
  readonly label: string;
  private readonly base: string;
  private index?: Promise<Map<string, string>>;

  constructor(
    template: string,
    private readonly ctx: ProviderContext,
  ) {
    this.base = template.slice(RPM_MD_SCHEME.length).replace(/\/*$/, '/');
    this.label = `${RPM_MD_SCHEME}${redactUrl(this.base)}`;
  }

  private get(rel: string, signal: AbortSignal): Promise<Buffer> {
    return httpGetBytes(new URL(rel, this.base).toString(), { ...httpLimits(this.ctx), signal, maxBytes: METADATA_MAX_BYTES });
  }

  /** sha256 -> location href, from the repository's primary metadata. */
  private async load(signal: AbortSignal): Promise<Map<string, string>> {
    const repomd = parseRepomd((await this.get('repodata/repomd.xml', signal)).toString('utf8'), `${this.base}repodata/repomd.xml`);
    const primary = repomd.data.find((d) => d.type === 'primary');
    if (!primary) throw new PingetError('NOT_FOUND', `${redactUrl(this.base)}repodata/repomd.xml lists no primary metadata`);
    const bytes = await this.get(primary.href, signal);
    if (primary.checksumType === 'sha256' && createHash('sha256').update(bytes).digest('hex') !== primary.checksum) {
      throw new PingetError('INTEGRITY', `${redactUrl(this.base)}${primary.href}: checksum does not match repomd.xml`);
    }
    const xml = Buffer.from(await decompress(bytes, primary.href)).toString('utf8');
    const map = new Map<string, string>();
    for (const p of parsePrimary(xml, primary.href)) if (p.checksumType === 'sha256') map.set(p.checksum, p.href);
    return map;
  }

  async open(target: FetchTarget, signal: AbortSignal): Promise<FetchBody> {
    this.index ??= this.load(signal);
    let href: string | undefined;
    try {
      href = (await this.index).get(target.sha256);
    } catch (e) {
      this.index = undefined;
      this.ctx.log.verbose(`${this.label}: no usable metadata (${(e as Error).message}); trying the Packages/ layout`);
    }
    const file = basename(target.path);
    const rel = href ?? `Packages/${file[0].toLowerCase()}/${file}`;
    return httpDownload(new URL(encodePath(rel), this.base).toString(), { ...httpLimits(this.ctx), signal });
  }
}

export const rpmMdProviderFactory: ProviderFactory = (template, ctx) =>
  template.startsWith(RPM_MD_SCHEME) && /^https?:\/\//i.test(template.slice(RPM_MD_SCHEME.length)) ? new RpmMdProvider(template, ctx) : undefined;
