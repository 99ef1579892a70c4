/** A package as every layer names it: the fetch chain's resolvers, the adapters and the commands. */
export interface PackageRef {
  name: string;
  /** The distro's full version string (epoch included where the distro has one). */
  version: string;
  arch: string;
}
