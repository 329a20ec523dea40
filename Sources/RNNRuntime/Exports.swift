// Instructions carry element-wise ops from the op table, so users of the runtime see its types.
@_exported import RNNOps
