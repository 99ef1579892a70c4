/** One XML reading for Fedora's metadata formats: attributes as `@name`, namespaces dropped, values as text. */
import { XMLParser } from 'fast-xml-parser';

export function xmlParser(arrayTags: string[]): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: (name) => arrayTags.includes(name),
  });
}
