import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';

/**
 * The part of the ONNX protobuf schema (onnx.proto, IR version 8, MIT licence, ONNX Project Contributors) that
 * an inference graph of dense float tensors needs, as a protobufjs descriptor. The field numbers are those of the
 * published schema; messages and fields diyml never writes are left out, which protobuf's wire format allows.
 */
const descriptor: protobuf.INamespace = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: {
          fields: { tensorType: { type: 'TypeProtoTensor', id: 1 } },
        },
        TypeProtoTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'TensorShapeDimension', id: 1 } } },
        TensorShapeDimension: {
          oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
          fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } },
        },
      },
    },
  },
};

let modelProtoType: protobuf.Type | undefined;

/**
 * The ModelProto message type, built on first use: protobufjs is loaded only by a process that writes or reads an
 * ONNX file, not by every process (and test worker) that imports @diyml/ml.
 */
function modelProto(): protobuf.Type {
  if (!modelProtoType) {
    const { Root } = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
    modelProtoType = Root.fromJSON(descriptor).lookupType('onnx.ModelProto');
  }
  return modelProtoType;
}

/** Reads an ONNX model file back: `ModelProto.toObject(ModelProto.decode(bytes))`. */
export const ModelProto: Pick<protobuf.Type, 'decode' | 'toObject'> = {
  decode: (reader, length) => modelProto().decode(reader, length),
  toObject: (message, options) => modelProto().toObject(message, options),
};

/** TensorProto.DataType values diyml writes. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values diyml writes. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export const IR_VERSION = 8;
export const OPSET_VERSION = 13;

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** A dimension: a fixed size, or a named symbolic one (the batch). */
export type OnnxDimension = number | string;

export interface OnnxValueInfo {
  name: string;
  shape: OnnxDimension[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

function valueInfo({ name, shape }: OnnxValueInfo): object {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: {
          dim: shape.map((dimension) =>
            typeof dimension === 'number' ? { dimValue: dimension } : { dimParam: dimension },
          ),
        },
      },
    },
  };
}

/** Encodes a graph as an ONNX model file (protobuf bytes). */
export function encodeModel(
  graph: OnnxGraph,
  metadata: Record<string, string>,
  producerVersion: string,
  docString = '',
): Uint8Array {
  const type = modelProto();
  const message = type.fromObject({
    irVersion: IR_VERSION,
    producerName: 'diyml',
    producerVersion,
    docString,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
  return type.encode(message).finish();
}
