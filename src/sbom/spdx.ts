/**
 * SPDX 2.3 JSON of an SBOM model. No JavaScript library writes SPDX 2.3 documents, so this builds the
 * document's object (JSON.stringify serializes it); the tests validate it against the official SPDX 2.3 JSON
 * schema (testdata/sbom/). Binary packages are `INSTALL` packages with their purl; each is GENERATED_FROM its
 * source package (`SOURCE`); lines that name no package are `FILE` packages with only their sha256 (an SPDX
 * file would need a SHA1 the lockfile does not have).
 */
import type { SbomModel } from './model.js';
import { modelUuid } from './model.js';

const NOASSERTION = 'NOASSERTION';

/** SPDX identifiers allow letters, digits, `.` and `-` only. */
const idPart = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  packageFileName?: string;
  downloadLocation: string;
  filesAnalyzed: boolean;
  checksums?: { algorithm: 'SHA256'; checksumValue: string }[];
  licenseConcluded: string;
  licenseDeclared: string;
  licenseComments?: string;
  copyrightText: string;
  primaryPackagePurpose: 'INSTALL' | 'SOURCE' | 'FILE';
  externalRefs?: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
  sourceInfo?: string;
  comment?: string;
}

const purlRef = (purl: string) => [{ referenceCategory: 'PACKAGE-MANAGER' as const, referenceType: 'purl' as const, referenceLocator: purl }];

export function toSpdx(model: SbomModel, toolVersion: string): string {
  const uuid = modelUuid(model, 'spdx-2.3');
  const packages: SpdxPackage[] = [];
  const relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [];
  const sourceIds = new Map<string, string>();
  const sourceId = (name: string, version: string | undefined, purl: string) => {
    let id = sourceIds.get(purl);
    if (!id) {
      id = `SPDXRef-Source-${sourceIds.size + 1}-${idPart(name)}`;
      sourceIds.set(purl, id);
      packages.push({
        SPDXID: id,
        name,
        ...(version ? { versionInfo: version } : {}),
        downloadLocation: NOASSERTION,
        filesAnalyzed: false,
        licenseConcluded: NOASSERTION,
        licenseDeclared: NOASSERTION,
        copyrightText: NOASSERTION,
        primaryPackagePurpose: 'SOURCE',
        externalRefs: purlRef(purl),
      });
    }
    return id;
  };
  for (const s of model.sources) {
    const id = sourceId(s.name, s.version, s.purl);
    const pkg = packages.find((p) => p.SPDXID === id)!;
    pkg.comment = `pinned source files (lockfile path, sha256): ${s.files.map((f) => `${f.path} ${f.sha256}`).join('; ')}`;
  }
  model.packages.forEach((p, i) => {
    const id = `SPDXRef-Package-${i + 1}-${idPart(p.name)}`;
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.version,
      packageFileName: p.path,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      checksums: [{ algorithm: 'SHA256', checksumValue: p.sha256 }],
      licenseConcluded: NOASSERTION,
      licenseDeclared: p.licence?.expression ?? NOASSERTION,
      ...(p.licence?.text ? { licenseComments: `the package declares "${p.licence.text}", which is not an SPDX licence expression` } : {}),
      copyrightText: NOASSERTION,
      primaryPackagePurpose: 'INSTALL',
      externalRefs: purlRef(p.purl),
      ...(p.source ? { sourceInfo: `built from source package ${p.source.name}${p.source.version ? ` ${p.source.version}` : ''}` } : {}),
    });
    relationships.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: id });
    if (p.source) relationships.push({ spdxElementId: id, relationshipType: 'GENERATED_FROM', relatedSpdxElement: sourceId(p.source.name, p.source.version, p.source.purl) });
  });
  model.files.forEach((f, i) => {
    const id = `SPDXRef-File-${i + 1}`;
    packages.push({
      SPDXID: id,
      name: f.path,
      packageFileName: f.path,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      checksums: [{ algorithm: 'SHA256', checksumValue: f.sha256 }],
      licenseConcluded: NOASSERTION,
      licenseDeclared: NOASSERTION,
      copyrightText: NOASSERTION,
      primaryPackagePurpose: 'FILE',
      comment: 'a lockfile line that names no package pinget knows',
    });
    relationships.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: id });
  });
  for (const id of sourceIds.values()) {
    if (!relationships.some((r) => r.relatedSpdxElement === id && r.relationshipType === 'GENERATED_FROM')) {
      relationships.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: id });
    }
  }
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: model.name,
    // A URI unique to this content; a URN, so that no host name is claimed.
    documentNamespace: `urn:uuid:${uuid}`,
    creationInfo: {
      created: model.created ?? '1970-01-01T00:00:00Z',
      creators: [`Tool: pinget-${toolVersion}`],
      comment: `from lockfile ${model.name} (sha256 ${model.lockSha256})${model.system ? `, ${[model.system.osId, model.system.versionId].filter(Boolean).join(' ')}` : ''}${model.created ? '' : '; no SOURCE_DATE_EPOCH nor snapshot header, so the creation time is the Unix epoch'}`,
    },
    packages,
    relationships,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
