/**
 * The composition point: the one file of src/ that imports distros/, handing the adapters to the commands.
 * Commands load it with import() where they need an adapter, so start-up stays light.
 */
export { ADAPTERS, adapterById, adapterForFile, adapterForPath, detectDistro, loadAdapter, unknownDistro } from '../distros/index.js';
