/** node-gyp-build ships no types; srvlens uses its resolver only. */
declare module 'node-gyp-build' {
  /** Loads the addon of the package at `dir` (see `path`). */
  function load(dir: string): unknown;
  namespace load {
    /**
     * The addon file node-gyp-build would load for the package at `dir`: build/Release (a source build) first, then
     * the package's prebuilds/PLATFORM-ARCH/ binary that fits this Node. Throws `No native build was found for ...`.
     */
    function path(dir: string): string;
  }
  export default load;
}
