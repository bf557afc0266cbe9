import { useQuery } from '@tanstack/react-query';
import { api, type Backbone, type Iteration, type Project, type Schemas, unwrap } from '../api/client';
import { ErrorMessage } from './error-message';
import {
  FieldHint,
  resolveSchema,
  SchemaField,
  SchemaFields,
  type SchemaNode,
  type Values,
  type Wording,
} from './config-form';
import { ARCHITECTURES } from './architectures';
import { IterationOptions } from './iteration-options';
import { plural } from './plural';

type ArchitectureChoice = Schemas['ArchitectureChoiceDto'];

const USES_BACKBONE = ['auto', 'backbone-classifier', 'backbone-detector'];
/** Architectures whose input size is their backbone's (or base model's): imageSize means nothing to them. */
const SIZED_BY_BACKBONE = ['backbone-classifier', 'backbone-detector', 'transfer'];
/** Where backbone blocks can be fine-tuned; the API refuses fineTune above 0 elsewhere (FINE_TUNE_UNSUPPORTED). */
const fineTunes = (architecture: string, type: Project['type']) =>
  architecture === 'backbone-classifier' || (architecture === 'auto' && type !== 'detection');
/** Where a base iteration means something: built on (transfer) or as the backbone. */
const USES_BASE_ITERATION = ['transfer', 'backbone-classifier', 'backbone-detector'];

/**
 * What 'Automatic' would train now, from the project's included images (GET …/architecture-choice), while it is
 * chosen; undefined while unknown or without images, where it has nothing to choose from yet.
 */
export function useAutomaticChoice(project: Project, architecture: unknown): ArchitectureChoice | undefined {
  const automatic = (architecture ?? 'auto') === 'auto';
  const choice = useQuery({
    queryKey: ['architecture-choice', project.id],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/architecture-choice', { params: { path: { projectId: project.id } } }),
      ),
    enabled: automatic,
  });
  return automatic && choice.data && choice.data.imageCount > 0 ? choice.data : undefined;
}

/** The architecture a run trains: Automatic's choice once it has made one, else the one chosen. */
const trainedArchitecture = (values: Values, automatic: ArchitectureChoice | undefined) =>
  automatic?.architecture ?? String(values.architecture ?? 'auto');

/**
 * The settings as a run is sent them: no fine-tuning where the architecture trained has no backbone to fine-tune
 * (a value kept from the project's settings would have the run refused with FINE_TUNE_UNSUPPORTED).
 */
export function applicableSettings(
  values: Values,
  type: Project['type'],
  automatic: ArchitectureChoice | undefined,
): Values {
  return fineTunes(trainedArchitecture(values, automatic), type) ? values : { ...values, fineTune: 0 };
}

const WORDING: Wording = {
  epochs: {
    label: 'Epochs',
    help: 'How many times training goes through every photo. More can learn more, and takes longer.',
  },
  learningRate: {
    label: 'Learning rate',
    help: 'How far each training step moves the model: lower learns slower but steadier.',
  },
  batchSize: { label: 'Batch size', help: 'Photos per training step: fewer use less memory.' },
  validationSplit: {
    label: 'Validation share',
    help: 'The share of training photos kept aside to measure the model, when no photo is in the validation split.',
    percent: true,
  },
  fineTune: {
    label: 'Backbone blocks to fine-tune',
    help: "How many of the pretrained backbone's last blocks learn too (slower); 0 keeps the backbone as it is.",
  },
  seed: {
    label: 'Seed',
    help: 'The same seed gives the same run: shuffling, splits, augmentation and starting weights.',
  },
  augmentation: {
    label: 'Augmentation',
    help: 'Random changes to the photos while training, so the model copes with variety.',
  },
  'augmentation.horizontalFlip': { label: 'Horizontal flip', help: 'Flip half the photos left to right.' },
  'augmentation.cropScale': {
    label: 'Crop scale',
    help: 'The smallest part of each side a random crop keeps; 100 % turns cropping off.',
    percent: true,
  },
  'augmentation.brightness': {
    label: 'Brightness',
    help: 'The largest random brightness change, as a share of the full range; 0 % turns it off.',
    percent: true,
  },
};
const COMMON = ['epochs'];
const ADVANCED = ['learningRate', 'batchSize', 'validationSplit', 'fineTune', 'seed', 'augmentation'];
/** Laid out by hand below; any other setting the API offers is listed generically under the advanced ones. */
const CUSTOM = ['architecture', 'backbone', 'baseIterationId', 'earlyStopping', 'imageSize'];

/**
 * The training configuration as a person reads it: what kind of model and on which backbone, then how long to train;
 * every other setting folded under "Advanced settings". Ranges and defaults come from the API's schema.
 */
export function TrainingSettings({
  project,
  schemas,
  iterations,
  automatic,
  values,
  onChange,
}: {
  project: Project;
  schemas: Record<string, SchemaNode>;
  /** Completed iterations, whose models a new one can build on. */
  iterations: Iteration[];
  /** What 'Automatic' trains these images as (useAutomaticChoice): only the settings that apply to it are offered. */
  automatic: ArchitectureChoice | undefined;
  values: Values;
  onChange: (values: Values) => void;
}) {
  const schema = schemas.TrainingConfigInputDto;
  const properties = schema.properties ?? {};
  const set = (name: string, value: unknown) => onChange({ ...values, [name]: value });
  const architecture = String(values.architecture ?? 'auto');
  const trained = trainedArchitecture(values, automatic);
  const others = Object.keys(properties).filter((name) => ![...COMMON, ...ADVANCED, ...CUSTOM].includes(name));
  const fields = (names: string[]) => (
    <SchemaFields
      schema={schema}
      schemas={schemas}
      values={values}
      onChange={onChange}
      names={names}
      wording={WORDING}
    />
  );
  return (
    <>
      <ArchitectureField
        project={project}
        node={properties.architecture}
        automatic={automatic}
        value={architecture}
        onChange={(value) =>
          onChange({
            ...values,
            architecture: value,
            baseIterationId: USES_BASE_ITERATION.includes(value) ? values.baseIterationId : null,
            fineTune: fineTunes(value, project.type) ? values.fineTune : 0,
          })
        }
      />
      {architecture === 'transfer' && (
        <BaseIterationField
          label="Build on iteration"
          help="Its layers stay as they are; a new classifier is trained on top."
          none="choose an iteration…"
          iterations={iterations}
          value={values.baseIterationId}
          onChange={(value) => set('baseIterationId', value)}
        />
      )}
      {USES_BACKBONE.includes(trained) && !values.baseIterationId && (
        <BackboneField value={values.backbone} onChange={(value) => set('backbone', value)} />
      )}
      {fields(COMMON)}
      {properties.imageSize && (
        <ImageSizeField
          node={properties.imageSize}
          architecture={trained}
          automatic={Boolean(automatic)}
          backbone={values.backbone}
          fromIteration={Boolean(values.baseIterationId)}
          value={values.imageSize}
          onChange={(value) => set('imageSize', value)}
        />
      )}
      <details className="advanced">
        <summary>Advanced settings</summary>
        {fields(
          ADVANCED.filter(
            (name) => name !== 'augmentation' && (name !== 'fineTune' || fineTunes(trained, project.type)),
          ),
        )}
        {properties.earlyStopping && (
          <EarlyStoppingField
            node={resolveSchema(properties.earlyStopping, schemas)}
            schemas={schemas}
            value={values.earlyStopping as Values | null | undefined}
            onChange={(value) => set('earlyStopping', value)}
          />
        )}
        {fields(['augmentation'])}
        {USES_BASE_ITERATION.includes(architecture) && architecture !== 'transfer' && (
          <BaseIterationField
            label="Backbone from an iteration's model"
            help="A model of this project (e.g. an imported one) serves as the backbone instead of a pretrained one."
            none="none: the pretrained backbone"
            iterations={iterations}
            value={values.baseIterationId}
            onChange={(value) => set('baseIterationId', value)}
          />
        )}
        {fields(others)}
      </details>
    </>
  );
}

function ArchitectureField({
  project,
  node,
  automatic,
  value,
  onChange,
}: {
  project: Project;
  node: SchemaNode | undefined;
  automatic: ArchitectureChoice | undefined;
  value: string;
  onChange: (value: string) => void;
}) {
  // Architectures the API adds later are offered under their own names.
  const known = (node?.enum ?? Object.keys(ARCHITECTURES)).map(String);
  const offered = known.filter((name) => !ARCHITECTURES[name] || ARCHITECTURES[name].types.includes(project.type));
  return (
    <div className="field">
      <label htmlFor="field-architecture">Model type</label>
      {/* The names are long: on a phone a select would cut the chosen one ("…with a new dete"); it shows in full over
          as many lines as it needs, and the select, see-through on top, does the choosing. */}
      <span className="wrapping-select model-type">
        <span aria-hidden="true">{ARCHITECTURES[value]?.name ?? value}</span>
        <select
          id="field-architecture"
          aria-describedby={`field-architecture-hint${value === 'auto' ? ' field-architecture-choice' : ''}`}
          value={value}
          onChange={(event) => onChange(event.target.value)}
        >
          {offered.map((name) => (
            <option key={name} value={name}>
              {ARCHITECTURES[name]?.name ?? name}
            </option>
          ))}
        </select>
      </span>
      <FieldHint
        id="field-architecture-hint"
        help="Pretrained backbones learn from few photos; models trained from scratch suit small, simple images."
      />
      {value === 'auto' && (
        <p id="field-architecture-choice" className="automatic-choice">
          {automatic ? (
            <>
              Automatic will train:{' '}
              <strong>{ARCHITECTURES[automatic.architecture]?.name ?? automatic.architecture}</strong>, chosen from the{' '}
              {plural(automatic.imageCount, 'included image')}: {automatic.reason.replace(/:.*$/, '')}. Only the
              settings that apply to it are shown.
            </>
          ) : (
            'Automatic chooses from the included images when a run starts: a pretrained backbone for photos, a small model trained from scratch for small images.'
          )}
        </p>
      )}
    </div>
  );
}

const useBackbones = () =>
  useQuery({
    queryKey: ['backbones'],
    queryFn: async () => unwrap(await api.GET('/v1/backbones')),
    staleTime: Infinity,
  });

/** The backbone `value` names, or the server's default one when it names none. */
const chosenBackbone = (backbones: Backbone[] | undefined, value: unknown) =>
  backbones?.find((backbone) => (value ? backbone.id === value : backbone.isDefault));

/** The pretrained backbones the server offers (GET /v1/backbones), its default chosen until another is picked. */
function BackboneField({ value, onChange }: { value: unknown; onChange: (value: string) => void }) {
  const backbones = useBackbones();
  const described = chosenBackbone(backbones.data, value);
  const chosen = String(value ?? described?.id ?? '');
  return (
    <div className="field">
      <label htmlFor="field-backbone">Backbone</label>
      <select
        id="field-backbone"
        aria-describedby="field-backbone-hint"
        value={chosen}
        disabled={!backbones.data}
        onChange={(event) => onChange(event.target.value)}
      >
        {backbones.data?.map((backbone) => (
          <option key={backbone.id} value={backbone.id}>
            {backbone.id}
            {backbone.isDefault ? ' (default)' : ''}
          </option>
        ))}
      </select>
      <FieldHint
        id="field-backbone-hint"
        help={
          described
            ? `${described.description} Licence ${described.licence}; sees photos at ${described.inputSize}×${described.inputSize} pixels.`
            : 'The pretrained network the new model starts from.'
        }
      />
      <ErrorMessage error={backbones.error} />
    </div>
  );
}

/**
 * Models trained from scratch take the image size set here; a backbone (or the model a run builds on) has its own,
 * so it is stated, not offered. 'Automatic' before it has images to choose from keeps the field, saying when it applies.
 */
function ImageSizeField({
  node,
  architecture,
  automatic,
  backbone,
  fromIteration,
  value,
  onChange,
}: {
  node: SchemaNode;
  /** The architecture trained: Automatic's choice once made. */
  architecture: string;
  /** Chosen by Automatic. */
  automatic: boolean;
  backbone: unknown;
  /** The backbone is a model of an earlier iteration, not a pretrained one. */
  fromIteration: boolean;
  value: unknown;
  onChange: (value: unknown) => void;
}) {
  const backbones = useBackbones();
  const pretrained = chosenBackbone(backbones.data, backbone);
  const backboneSize = pretrained
    ? `${pretrained.id} sees photos at ${pretrained.inputSize} × ${pretrained.inputSize} pixels`
    : 'the backbone sees photos at its own size';
  if (SIZED_BY_BACKBONE.includes(architecture)) {
    return (
      <div className="field">
        <span className="field-name">Image size</span>
        <p className="hint">
          {architecture === 'transfer' || fromIteration
            ? "Set by the iteration's model this one builds on: photos are resized to the size it was trained at."
            : `Set by the backbone: ${backboneSize}.`}
        </p>
      </div>
    );
  }
  return (
    <SchemaField
      id="field-imageSize"
      node={node}
      label="Image size (pixels)"
      help={
        architecture === 'auto'
          ? `Only for small images (icons, scans), which Automatic trains from scratch at this many pixels square; photos go to the backbone instead (${backboneSize}).`
          : `${automatic ? 'Automatic trains these small images from scratch, shrunk' : 'Images are shrunk'} to this many pixels square: larger sees more detail and trains slower.`
      }
      value={value}
      onChange={onChange}
    />
  );
}

function BaseIterationField({
  label,
  help,
  none,
  iterations,
  value,
  onChange,
}: {
  label: string;
  help: string;
  none: string;
  iterations: Iteration[];
  value: unknown;
  onChange: (value: string | null) => void;
}) {
  return (
    <div className="field">
      <label htmlFor="field-baseIterationId">{label}</label>
      <select
        id="field-baseIterationId"
        aria-describedby="field-baseIterationId-hint"
        value={String(value ?? '')}
        onChange={(event) => onChange(event.target.value || null)}
      >
        <option value="">{none}</option>
        <IterationOptions iterations={iterations} />
      </select>
      <FieldHint id="field-baseIterationId-hint" help={help} />
    </div>
  );
}

/** Off (null) or on with a patience; the schema's `enabled` flag is implied by the checkbox. */
function EarlyStoppingField({
  node,
  schemas,
  value,
  onChange,
}: {
  node: SchemaNode;
  schemas: Record<string, SchemaNode>;
  value: Values | null | undefined;
  onChange: (value: Values | null) => void;
}) {
  const on = Boolean(value) && value?.enabled !== false;
  const patience = node.properties?.patience && resolveSchema(node.properties.patience, schemas);
  return (
    <fieldset>
      <legend>Early stopping</legend>
      <label className="choice">
        <input
          type="checkbox"
          checked={on}
          onChange={(event) => onChange(event.target.checked ? { enabled: true, patience: patience?.default } : null)}
        />
        Stop when the model stops getting better on the validation photos
      </label>
      {on && patience && (
        <SchemaField
          id="field-earlyStopping-patience"
          node={patience}
          label="Patience"
          help="Epochs without a better validation loss before training stops."
          value={value?.patience}
          onChange={(next) => onChange({ ...value, enabled: true, patience: next })}
        />
      )}
    </fieldset>
  );
}
