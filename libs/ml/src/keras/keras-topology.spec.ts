import { describe, expect, it } from 'vitest';
import { KerasImportError } from './keras-import.error.js';
import { toTfjsTopology } from './keras-topology.js';

const tensor = (layer: string) => ({
  class_name: '__keras_tensor__',
  config: { shape: [null, 4, 4, 2], dtype: 'float32', keras_history: [layer, 0, 0] },
});
const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

describe('Keras configs as TensorFlow.js topologies', () => {
  it("turns Keras 3's functional nodes, several inputs included, into Keras 2's inbound nodes", () => {
    const topology = toTfjsTopology({
      class_name: 'Functional',
      config: {
        name: 'residual',
        layers: [
          {
            module: 'keras.layers',
            class_name: 'InputLayer',
            config: { batch_shape: [null, 4, 4, 2], dtype: 'float32', name: 'image' },
            name: 'image',
            inbound_nodes: [],
          },
          {
            module: 'keras.layers',
            class_name: 'Conv2D',
            config: {
              name: 'conv',
              dtype: policy,
              filters: 2,
              kernel_size: [1, 1],
              kernel_initializer: { module: 'keras.initializers', class_name: 'HeNormal', config: {} },
            },
            build_config: { input_shape: [null, 4, 4, 2] },
            name: 'conv',
            inbound_nodes: [{ args: [tensor('image')], kwargs: {} }],
          },
          {
            module: 'keras.layers',
            class_name: 'Add',
            config: { name: 'add', dtype: policy },
            name: 'add',
            inbound_nodes: [{ args: [[tensor('image'), tensor('conv')]], kwargs: {} }],
          },
        ],
        input_layers: ['image', 0, 0],
        output_layers: [['add', 0, 0]],
      },
    });
    expect(topology.class_name).toBe('Model');
    const layers = topology.config.layers as {
      class_name: string;
      name: string;
      config: Record<string, unknown>;
      inbound_nodes: unknown;
    }[];
    expect(layers.map((layer) => layer.inbound_nodes)).toEqual([
      [],
      [[['image', 0, 0, {}]]],
      [
        [
          ['image', 0, 0, {}],
          ['conv', 0, 0, {}],
        ],
      ],
    ]);
    expect(layers[0].config).toEqual({ batch_input_shape: [null, 4, 4, 2], dtype: 'float32', name: 'image' });
    expect(layers[1].config).toEqual({ name: 'conv', dtype: 'float32', filters: 2, kernel_size: [1, 1] });
    expect(topology.config.input_layers).toEqual([['image', 0, 0]]);
  });

  it('gives a Sequential model without an Input layer the input shape Keras 3 keeps beside its layers', () => {
    const topology = toTfjsTopology({
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [{ class_name: 'Flatten', config: { name: 'flatten' } }],
        build_input_shape: [null, 2, 2, 1],
      },
    });
    expect((topology.config.layers as { config: Record<string, unknown> }[])[0].config).toEqual({
      name: 'flatten',
      batch_input_shape: [null, 2, 2, 1],
    });
  });

  it('refuses, by type and name, a layer diyml cannot run, a nested model and a subclassed model', () => {
    const refusal = (model: Record<string, unknown>) => {
      try {
        toTfjsTopology(model);
      } catch (error) {
        return error as KerasImportError;
      }
      throw new Error('accepted');
    };
    const lstm = refusal({
      class_name: 'Sequential',
      config: { layers: [{ class_name: 'LSTM', config: { name: 'memory' } }] },
    });
    expect(lstm).toMatchObject({
      code: 'KERAS_UNSUPPORTED_LAYER',
      details: { layerType: 'LSTM', layerName: 'memory' },
    });
    expect(lstm.message).toContain('LSTM layer ("memory")');
    const nested = refusal({
      class_name: 'Sequential',
      config: { layers: [{ class_name: 'Functional', config: { name: 'mobilenet' } }] },
    });
    expect(nested.message).toContain('nests a whole model ("mobilenet"');
    expect(refusal({ class_name: 'MyModel', config: {} })).toMatchObject({
      code: 'KERAS_UNSUPPORTED_LAYER',
      details: { layerType: 'MyModel' },
    });
  });
});
