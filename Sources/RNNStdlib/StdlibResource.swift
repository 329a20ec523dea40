import Foundation

/// The standard library's `.rnn` files, shipped as a SwiftPM resource of this target.
///
/// SwiftPM's generated `Bundle.module` stops the process when the bundle is missing (a bare
/// copied binary has none); this looks for the bundle where SwiftPM puts it and answers nil
/// instead.
public enum StdlibResource {
    /// The resource's `stdlib` folder, or nil when the bundle did not travel with the binary.
    public static var folder: URL? {
        let bundleName = "rnnc_RNNStdlib"
        var candidates = [
            Bundle.main.bundleURL.appendingPathComponent("\(bundleName).resources"),
            Bundle.main.bundleURL.appendingPathComponent("\(bundleName).bundle"),
            Bundle.main.resourceURL?.appendingPathComponent("\(bundleName).bundle"),
        ].compactMap { $0 }
        for bundle in Bundle.allBundles + Bundle.allFrameworks {
            candidates.append(bundle.bundleURL.appendingPathComponent("\(bundleName).bundle"))
        }
        for candidate in candidates {
            for inner in ["stdlib", "Contents/Resources/stdlib"] {
                let folder = candidate.appendingPathComponent(inner)
                if FileManager.default.fileExists(atPath: folder.appendingPathComponent("logic.rnn").path) { return folder }
            }
        }
        return nil
    }
}
