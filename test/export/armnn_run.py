#!/usr/bin/python3
"""Runs a .tflite model with Arm NN (Debian's python3-pyarmnn: Arm NN's own TFLite parser and its CpuRef
reference backend, no TensorFlow code), one window at a time as a device does: float features in,
quantised with the input tensor's scale/offset for an int8 model; float probabilities out.
Usage: armnn_run.py MODEL.tflite X.npy OUT.npy"""
import sys
import numpy as np
import pyarmnn as ann

model, x_path, out_path = sys.argv[1:4]
parser = ann.ITfLiteParser()
net = parser.CreateNetworkFromBinaryFile(model)
in_name = parser.GetSubgraphInputTensorNames(0)[0]
out_name = parser.GetSubgraphOutputTensorNames(0)[0]
in_binding = parser.GetNetworkInputBindingInfo(0, in_name)
out_binding = parser.GetNetworkOutputBindingInfo(0, out_name)
runtime = ann.IRuntime(ann.CreationOptions())
optimized, _ = ann.Optimize(net, [ann.BackendId('CpuRef')], runtime.GetDeviceSpec(), ann.OptimizerOptions())
net_id, _ = runtime.LoadNetwork(optimized)

in_info, out_info = in_binding[1], out_binding[1]
quantized = in_info.IsQuantized()
x = np.load(x_path).astype(np.float32)
outputs = []
for row in x:
    if quantized:
        v = row / in_info.GetQuantizationScale()
        q = np.sign(v) * np.floor(np.abs(v) + 0.5) + in_info.GetQuantizationOffset()  # std::round, as TFLite
        data = np.clip(q, -128, 127).astype(np.int8)
    else:
        data = row
    inputs = ann.make_input_tensors([in_binding], [data.reshape(in_info.GetShape().GetNumElements())])
    outs = ann.make_output_tensors([out_binding])
    runtime.EnqueueWorkload(net_id, inputs, outs)
    y = ann.workload_tensors_to_ndarray(outs)[0].reshape(-1)
    if out_info.IsQuantized():
        y = (y.astype(np.float32) - out_info.GetQuantizationOffset()) * out_info.GetQuantizationScale()
    outputs.append(y.astype(np.float32))
np.save(out_path, np.stack(outputs))
