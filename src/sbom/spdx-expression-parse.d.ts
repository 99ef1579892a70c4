// spdx-expression-parse ships no types: it throws on a string that is not an SPDX licence expression.
declare module 'spdx-expression-parse' {
  const parse: (expression: string) => unknown;
  export default parse;
}
