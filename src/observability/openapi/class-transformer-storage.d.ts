// class-transformer ships the typings of its CommonJS build under types/; the generator needs its metadata storage (@Type targets).
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
