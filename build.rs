//! Builds the small RDKit bridge (cpp/) and sets the runtime path to libtorch.

fn main() {
    cxx_build::bridge("src/chem/rdkit.rs")
        .file("cpp/rdkit_bridge.cc")
        .include("/usr/include/rdkit")
        .include("/usr/local/include/rdkit")
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-w")
        .compile("disco_rdkit_bridge");
    for lib in [
        "RDKitDistGeomHelpers",
        "RDKitDistGeometry",
        "RDKitForceFieldHelpers",
        "RDKitForceField",
        "RDKitOptimizer",
        "RDKitAlignment",
        "RDKitEigenSolvers",
        "RDKitRDGeometryLib",
        "RDKitFileParsers",
        "RDKitSmilesParse",
        "RDKitGraphMol",
        "RDKitRDGeneral",
    ] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    println!("cargo:rerun-if-changed=cpp/rdkit_bridge.cc");
    println!("cargo:rerun-if-changed=cpp/rdkit_bridge.h");
    println!("cargo:rerun-if-changed=src/chem/rdkit.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        let lib = std::path::Path::new(&libtorch).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
    if std::env::var("CARGO_FEATURE_CUDA").is_ok() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
