import RNNRuntime

/// The parts of a PyTorch module's source that do not depend on the model.
extension TorchWriter {
    /// A reader and a writer of safetensors files that need torch alone.
    static let safetensorsHelpers: [String] = [
        "",
        "_DTYPES = {\"F64\": torch.float64, \"F32\": torch.float32, \"F16\": torch.float16, \"BF16\": torch.bfloat16, \"I64\": torch.int64}",
        "",
        "",
        "def read_safetensors(path: str) -> Dict[str, Tensor]:",
        "    \"\"\"The tensors of a safetensors file (the format is an 8-byte header length, a JSON header, the data).\"\"\"",
        "    with open(path, \"rb\") as f:",
        "        data = f.read()",
        "    length = int.from_bytes(data[:8], \"little\")",
        "    header = json.loads(data[8:8 + length])",
        "    body = data[8 + length:]",
        "    tensors = {}",
        "    for name, info in header.items():",
        "        if name == \"__metadata__\":",
        "            continue",
        "        start, end = info[\"data_offsets\"]",
        "        flat = torch.frombuffer(bytearray(body[start:end]), dtype=_DTYPES[info[\"dtype\"]]) if end > start else torch.zeros(0, dtype=_DTYPES[info[\"dtype\"]])",
        "        tensors[name] = flat.reshape(info[\"shape\"]).clone()",
        "    return tensors",
        "",
        "",
        "def write_safetensors(path: str, tensors: Dict[str, Tensor]) -> None:",
        "    \"\"\"Writes tensors as a safetensors file (Float64), as rnnc --weights reads it.\"\"\"",
        "    header, chunks, offset = {}, [], 0",
        "    for name, tensor in tensors.items():",
        "        flat = tensor.detach().to(torch.float64).cpu().contiguous().reshape(-1).view(torch.uint8)",
        "        try:",
        "            raw = flat.numpy().tobytes()",
        "        except (RuntimeError, ImportError):  # torch without NumPy",
        "            raw = bytes(flat.tolist())",
        "        header[name] = {\"dtype\": \"F64\", \"shape\": list(tensor.shape), \"data_offsets\": [offset, offset + len(raw)]}",
        "        chunks.append(raw)",
        "        offset += len(raw)",
        "    encoded = json.dumps(header).encode()",
        "    encoded += b\" \" * (-len(encoded) % 8)",
        "    with open(path, \"wb\") as f:",
        "        f.write(len(encoded).to_bytes(8, \"little\") + encoded + b\"\".join(chunks))",
    ]
}

/// A Python string literal.
func pythonString(_ s: String) -> String {
    "\"" + s.unicodeScalars.map { c -> String in
        switch c {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case _ where c.value < 0x20 || c.value > 0x7E: return String(format: "\\U%08x", c.value)
        default: return String(c)
        }
    }.joined() + "\""
}

/// A Python float literal that reads back as the same Double.
func pythonNumber(_ x: Double) -> String {
    if x.isNaN { return "float('nan')" }
    if x.isInfinite { return x > 0 ? "float('inf')" : "float('-inf')" }
    return "\(x)"
}

extension WeightMatrix {
    /// Whether only diagonal entries are non-zero.
    var isDiagonal: Bool {
        switch storage {
        case .dense(let v): return v.indices.allSatisfy { v[$0] == 0 || $0 / cols == $0 % cols }
        case .sparse(let offsets, let columns, let values):
            return (0..<rows).allSatisfy { r in (offsets[r]..<offsets[r + 1]).allSatisfy { columns[$0] == r || values[$0] == 0 } }
        }
    }

    /// The diagonal, for a square matrix.
    var diagonalValues: [Double] {
        let dense = denseValues()
        return (0..<rows).map { dense[$0 * cols + $0] }
    }

    var isIdentity: Bool { rows == cols && isDiagonal && diagonalValues.allSatisfy { $0 == 1 } }
}
