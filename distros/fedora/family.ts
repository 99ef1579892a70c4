/** The os-release IDs (ID or ID_LIKE) this adapter serves: its detect() and the registry both read this list. */
// Amazon Linux (amzn) says ID_LIKE=fedora or "centos rhel fedora"; CBL-Mariner and Azure Linux say nothing like.
export const FAMILY: readonly string[] = ['fedora', 'rhel', 'centos', 'amzn', 'mariner', 'azurelinux'];
