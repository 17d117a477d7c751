//! The generated kernels, checked without a GPU: the WGSL parses and validates with naga (the
//! compiler inside wgpu), and the CUDA source has every entry point.

use sesame_gpu::codegen::{self, Target};

#[test]
fn wgsl_validates() {
    let src = codegen::kernels(Target::Wgsl);
    let module =
        naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| panic!("{}", e.emit_to_string(&src)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .expect("valid WGSL");
    for k in codegen::KERNELS {
        assert!(module.entry_points.iter().any(|e| e.name == k), "{k}");
    }
}

#[test]
fn cuda_source_has_every_kernel() {
    let src = codegen::kernels(Target::Cuda);
    for k in codegen::KERNELS {
        assert!(src.contains(&format!(" {k}(")), "{k}");
    }
    assert!(src.contains("__funnelshift_r"));
    // Same round code: the two sources have the same number of bound values.
    let lets = |s: &str, pat: &str| s.matches(pat).count();
    let wgsl = codegen::kernels(Target::Wgsl);
    assert_eq!(lets(&wgsl, "let v"), lets(&src, "const uint32_t v"));
}

#[test]
fn constant_padding_is_folded() {
    let (s256, s1) = codegen::loop_ops();
    // Two SHA-256 compressions take about 2 x 64 x 30 operations before folding; the constant
    // halves of the message blocks remove some of the schedule.
    assert!(
        s256.total() > 3000 && s256.total() < 2 * 64 * 40,
        "{s256:?}"
    );
    assert!(s1.total() > 1000 && s1.total() < 2 * 80 * 20, "{s1:?}");
}
