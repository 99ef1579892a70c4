/** The os-release IDs (ID or ID_LIKE) this adapter serves: its detect() and the registry both read this list. */
export const FAMILY: readonly string[] = ['arch'];
