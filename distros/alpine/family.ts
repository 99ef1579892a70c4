/** The os-release IDs (ID or ID_LIKE) this adapter serves: its detect() and the registry both read this list. */
// Wolfi and Chainguard images are apk systems with their own repositories and keys.
export const FAMILY: readonly string[] = ['alpine', 'wolfi', 'chainguard'];
