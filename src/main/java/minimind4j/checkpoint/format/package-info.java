/**
 * Checkpoint file formats in pure Java, so weights move both ways between minimind4j and MiniMind's Python scripts:
 * PyTorch {@code .pth} ({@link minimind4j.checkpoint.format.Pth}: torch.save's ZIP + pickle format) and safetensors
 * ({@link minimind4j.checkpoint.format.Safetensors}), with tensors held as {@link minimind4j.checkpoint.format.HostTensor},
 * and files replaced atomically ({@link minimind4j.checkpoint.format.AtomicFiles}). Nothing here knows the model or
 * libtorch: it depends on nothing of the project but {@link minimind4j.UserError} (see ARCHITECTURE.md).
 *
 * <p>Sources followed: torch/serialization.py ({@code _save}, {@code persistent_id}, record names and order),
 * torch/_tensor.py ({@code _reduce_ex_internal}: {@code _rebuild_tensor_v2} arguments),
 * torch/_weights_only_unpickler.py (which globals a checkpoint may use), caffe2/serialize/inline_container.cc
 * (archive folder, 64-byte record alignment through the "FB" extra field, version and serialization id records),
 * third_party/miniz-3.0.2/miniz.c (local headers, data descriptors, ZIP64 end records), CPython's Lib/pickle.py,
 * Lib/pickletools.py and Modules/_pickle.c (opcodes, memo, batching), and the safetensors format description.
 */
package minimind4j.checkpoint.format;
