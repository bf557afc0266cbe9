import {
  AttributeType,
  DataType,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxNode,
  type OnnxValueInfo,
} from './onnx-proto.js';

export type AttributeValue = number | string | number[] | { floats: number[] } | { float: number };

/** A float initializer, kept as numbers until the graph is encoded so passes such as batch-norm folding can edit it. */
interface FloatInitializer {
  dims: number[];
  values: Float32Array;
}

function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

function bytesOf(values: Float32Array | BigInt64Array): Uint8Array {
  // Copied so the bytes are little-endian regardless of the view's offset (the machine's order is little-endian).
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/** Collects ONNX nodes and initializers with unique names, in topological order (every input exists first). */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  private readonly floats = new Map<string, FloatInitializer>();
  private readonly integers = new Map<string, BigInt64Array>();
  private readonly usedNames = new Set<string>();

  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_');
    let name = clean;
    for (let suffix = 1; this.usedNames.has(name); suffix++) name = `${clean}_${suffix}`;
    this.usedNames.add(name);
    return name;
  }

  floatConstant(base: string, values: Float32Array, dims: number[]): string {
    const name = this.unique(base);
    this.floats.set(name, { dims, values });
    return name;
  }

  int64Constant(base: string, values: number[]): string {
    const name = this.unique(base);
    this.integers.set(
      name,
      BigInt64Array.from(values, (value) => BigInt(value)),
    );
    return name;
  }

  floatInitializer(name: string): FloatInitializer | undefined {
    return this.floats.get(name);
  }

  /** Adds a node with one output and returns the output's name. */
  node(
    opType: string,
    inputs: string[],
    nameBase: string,
    attributes: Record<string, AttributeValue> = {},
    outputName?: string,
  ): string {
    const output = outputName ?? this.unique(nameBase);
    if (outputName) this.usedNames.add(outputName);
    this.nodes.push({
      name: this.unique(`${nameBase}/${opType}`),
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return output;
  }

  /** The graph with only the initializers its nodes still use. */
  build(name: string, inputs: OnnxValueInfo[], outputs: OnnxValueInfo[]): OnnxGraph {
    const used = new Set(this.nodes.flatMap((node) => node.input));
    const initializers = [
      ...[...this.floats]
        .filter(([key]) => used.has(key))
        .map(([key, { dims, values }]) => ({ name: key, dims, dataType: DataType.FLOAT, rawData: bytesOf(values) })),
      ...[...this.integers]
        .filter(([key]) => used.has(key))
        .map(([key, values]) => ({
          name: key,
          dims: [values.length],
          dataType: DataType.INT64,
          rawData: bytesOf(values),
        })),
    ];
    return { name, nodes: this.nodes, initializers, inputs, outputs };
  }
}
