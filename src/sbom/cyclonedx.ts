/**
 * CycloneDX 1.6 JSON of an SBOM model, built and serialized by @cyclonedx/cyclonedx-library (loaded on use).
 * The library has no model of `pedigree`, so each binary's source package is added to the serialized
 * document as `pedigree.ancestors` (CycloneDX's "derived from"); the tests validate the result with the
 * library's own JSON schema validator.
 */
import type { SbomLicence, SbomModel, SbomSource } from './model.js';
import { modelUuid } from './model.js';

type CDXModule = typeof import('@cyclonedx/cyclonedx-library');

function licences(CDX: CDXModule, licence: SbomLicence | undefined) {
  const repo = new CDX.Models.LicenseRepository();
  if (licence?.expression) repo.add(new CDX.Models.LicenseExpression(licence.expression));
  else if (licence?.text) repo.add(new CDX.Models.NamedLicense(licence.text));
  return repo;
}

const sha256 = (CDX: CDXModule, hex: string) => new CDX.Models.HashDictionary([[CDX.Enums.HashAlgorithm['SHA-256'], hex]]);

export async function toCycloneDx(model: SbomModel, toolVersion: string): Promise<string> {
  const CDX = await import('@cyclonedx/cyclonedx-library');
  const { Component, Property, PropertyRepository, ExternalReference, ExternalReferenceRepository } = CDX.Models;
  const bom = new CDX.Models.Bom({ serialNumber: `urn:uuid:${modelUuid(model, 'cyclonedx-1.6')}` });
  if (model.created) bom.metadata.timestamp = new Date(model.created);
  bom.metadata.tools.components.add(new Component(CDX.Enums.ComponentType.Application, 'pinget', { version: toolVersion }));
  bom.metadata.component = new Component(CDX.Enums.ComponentType.File, model.name, {
    bomRef: `lockfile:${model.name}`,
    hashes: sha256(CDX, model.lockSha256),
    properties: new PropertyRepository(model.system ? [new Property('pinget:distro', [model.system.osId, model.system.versionId].filter(Boolean).join(' '))] : []),
  });
  const purlCount = new Map<string, number>();
  for (const p of model.packages) purlCount.set(p.purl, (purlCount.get(p.purl) ?? 0) + 1);
  const ancestors = new Map<string, SbomSource>();
  for (const p of model.packages) {
    // Two lockfile lines can pin the same package (name, version, arch) under two paths: bom-refs stay unique.
    const bomRef = purlCount.get(p.purl) === 1 ? p.purl : `${p.purl}#${p.path}`;
    bom.components.add(
      new Component(CDX.Enums.ComponentType.Library, p.name, {
        bomRef,
        version: p.version,
        purl: p.purl,
        hashes: sha256(CDX, p.sha256),
        licenses: licences(CDX, p.licence),
        properties: new PropertyRepository([new Property('pinget:path', p.path), new Property('pinget:arch', p.arch)]),
      }),
    );
    if (p.source) ancestors.set(bomRef, p.source);
  }
  for (const s of model.sources) {
    bom.components.add(
      new Component(CDX.Enums.ComponentType.Library, s.name, {
        bomRef: s.purl,
        version: s.version,
        purl: s.purl,
        externalReferences: new ExternalReferenceRepository(
          s.files.map((f) => new ExternalReference(f.path, CDX.Enums.ExternalReferenceType.SourceDistribution, { hashes: sha256(CDX, f.sha256) })),
        ),
        properties: new PropertyRepository([new Property('pinget:arch', 'source')]),
      }),
    );
  }
  for (const f of model.files) {
    bom.components.add(new Component(CDX.Enums.ComponentType.File, f.path, { bomRef: `file:${f.path}`, hashes: sha256(CDX, f.sha256) }));
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  const doc = JSON.parse(serializer.serialize(bom, { sortLists: true })) as { components?: Record<string, unknown>[] };
  for (const c of doc.components ?? []) {
    const src = ancestors.get(c['bom-ref'] as string);
    if (src) c.pedigree = { ancestors: [{ type: 'library', name: src.name, ...(src.version ? { version: src.version } : {}), purl: src.purl }] };
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
