// Prepended to every family file by scripts/build-shaders.mjs: the binding
// layout every kernel twin shares (see docs/WEBGPU.md).
//
// mem is "the GPU heap": one storage buffer holding every tensor, addressed by
// the same byte offsets the MemoryManager hands out (the host passes them
// divided by 4, as element indices). int32 tensors live in it too, read and
// written through bitcast. P holds the kernel's arguments in the order of its
// manifest (kernels/<family>.mjs), one 32-bit slot each (f32 arguments
// bitcast); a shader reads them by name through the generated prologue
// (`let arg = unary_f32_args(); … arg.n`), not by slot.
@group(0) @binding(0) var<storage, read_write> mem: array<f32>;
struct Params { v: array<vec4<u32>, 16> }
@group(0) @binding(1) var<uniform> P: Params;

fn pu(i: u32) -> u32 { return P.v[i >> 2u][i & 3u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
fn ldi(i: u32) -> i32 { return bitcast<i32>(mem[i]); }
fn sti(i: u32, v: i32) { mem[i] = bitcast<f32>(v); }

// 1-D work is dispatched as a 2-D grid of 256-wide groups (at most 65535 per
// dimension); this is the flat index of an invocation.
fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.y * nwg.x * 256u + gid.x; }

// A quiet NaN and inf made at run time (a constant NaN or inf is a WGSL compile error).
fn nan_f32() -> f32 { return bitcast<f32>(0x7fc00000u | (pu(63u) & 0u)); }
fn inf_f32() -> f32 { return bitcast<f32>(0x7f800000u | (pu(63u) & 0u)); }
// NaN and inf by their bits: WGSL lets an implementation assume neither occurs in its
// built-ins and comparisons (SwiftShader's x != x is false for a NaN, its max drops one,
// its exp(NaN) is inf), so the special values PyTorch defines are picked out explicitly.
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
/** exp that keeps a NaN. */
fn exp_nan(x: f32) -> f32 { return select(exp(x), x, is_nan(x)); }
/** log that keeps a NaN (SwiftShader's log(NaN) is -inf). */
fn log_nan(x: f32) -> f32 { return select(log(x), x, is_nan(x)); }
