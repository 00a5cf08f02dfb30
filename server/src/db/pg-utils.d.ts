// node-postgres' own conversion of a query parameter to the text it sends (pg/lib/utils.js, exported
// by pg's package.json as ./lib/*); @types/pg does not declare it.
declare module 'pg/lib/utils.js' {
  export function prepareValue(value: unknown): string | Buffer | null | undefined;
}
