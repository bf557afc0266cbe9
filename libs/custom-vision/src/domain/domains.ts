import type { ProjectType } from '@diyml/projects';
import { CustomVisionError } from './custom-vision-error.js';

export type DomainType = 'Classification' | 'ObjectDetection';

export interface CustomVisionDomain {
  id: string;
  name: string;
  type: DomainType;
  exportable: boolean;
  enabled: boolean;
  exportablePlatforms: string[];
  modelInformation: { estimatedModelSizeInMegabytes: number; displayName: string; description: string } | null;
}

/** What every diyml model exports to, and the `format` of diyml's model download that serves it. */
export const EXPORT_PLATFORMS = [
  { platform: 'TensorFlow', flavor: 'TensorFlowJs', format: 'tfjs' },
  { platform: 'ONNX', flavor: null, format: 'onnx' },
] as const;
export const EXPORT_PLATFORM_NAMES: string[] = EXPORT_PLATFORMS.map((entry) => entry.platform);

function domain(id: string, name: string, type: DomainType, compact: boolean): CustomVisionDomain {
  return {
    id,
    name,
    type,
    exportable: true,
    enabled: true,
    exportablePlatforms: EXPORT_PLATFORM_NAMES,
    modelInformation: {
      estimatedModelSizeInMegabytes: 1,
      displayName: name,
      description: `diyml trains its ${type === 'Classification' ? 'classification' : 'detection'} architecture for this domain${compact ? ' (every diyml model is exportable)' : ''}.`,
    },
  };
}

/**
 * The domains served, with Azure's well-known ids so that code with a hard-coded domain id works. A
 * domain only chooses the project type: every domain of a type trains the same diyml architecture.
 */
export const DOMAINS: readonly CustomVisionDomain[] = [
  domain('ee85a74c-405e-4adc-bb47-ffa8ca0c9f31', 'General', 'Classification', false),
  domain('0732100f-1a38-4e49-a514-c9b44c697ab5', 'General (compact)', 'Classification', true),
  domain('da2e3a8a-40a5-4171-82f4-58522f70fbc1', 'General', 'ObjectDetection', false),
  domain('a27d5ca5-bb19-49d8-a70a-fec086c47f5b', 'General (compact)', 'ObjectDetection', true),
];

/** The domain a project of this type reports (the first of its type). */
export const DEFAULT_DOMAIN: Record<ProjectType, CustomVisionDomain> = {
  classification: DOMAINS[0],
  multilabel: DOMAINS[0],
  detection: DOMAINS[2],
};

export function findDomain(domainId: string): CustomVisionDomain {
  const found = DOMAINS.find((candidate) => candidate.id === domainId.toLowerCase());
  if (!found) {
    throw CustomVisionError.notFound(
      'NotFoundDomain',
      `Domain ${domainId} does not exist: GET /domains lists the served ones.`,
    );
  }
  return found;
}

/** The project type a domain and Custom Vision's classificationType make: Multilabel is diyml's multilabel type. */
export function projectTypeOf(domain: CustomVisionDomain, classificationType?: ClassificationType | null): ProjectType {
  if (domain.type === 'ObjectDetection') return 'detection';
  return classificationType === 'Multilabel' ? 'multilabel' : 'classification';
}

export type ClassificationType = 'Multiclass' | 'Multilabel';

/** What Custom Vision calls a project type's classification: null for object detection. */
export function classificationTypeOf(type: ProjectType): ClassificationType | null {
  switch (type) {
    case 'classification':
      return 'Multiclass';
    case 'multilabel':
      return 'Multilabel';
    case 'detection':
      return null;
  }
}
