// One RFC 8785 implementation for the whole code base: the verifier's, which is
// ours, runs in browsers, and refuses anything that is not plain JSON. The
// domain depends on the standalone verifier, never the other way round.
export { canonicalJson } from "../verify/jcs.ts";
