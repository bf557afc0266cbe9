import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { DeploymentView } from '../read-models/deployments/deployment.view.js';

export class DeploymentSharingDto {
  @ApiProperty({ example: 'Fruit classifier', description: 'The name other users see.' }) name: string;
  @ApiProperty({ example: 'Tells apples from pears.' }) description: string;
  @ApiProperty({ format: 'date-time' }) sharedAt: string;
}

export class DeploymentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({ example: 3 }) iterationNumber: number;
  @ApiProperty({ example: 'production' }) name: string;
  @ApiProperty({ example: '/v1/predict/0b6f…', description: 'Where to POST images for predictions.' }) endpoint: string;
  @ApiProperty({ example: 'dpk_AbC123', description: 'The first characters of the current key, to recognise it.' })
  keyPrefix: string;
  @ApiProperty({ enum: ['active'] }) status: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) keyRotatedAt: string | null;
  @ApiProperty({
    type: DeploymentSharingDto,
    nullable: true,
    description:
      'How the deployment is shared with the other users of this server (see /v1/shared-models); null when it is not.',
  })
  shared: DeploymentSharingDto | null;
  @ApiProperty() revision: number;
}

export class DeploymentPageDto {
  @ApiProperty({ type: [DeploymentDto] }) items: DeploymentDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class DeployedModelDto extends DeploymentDto {
  @ApiProperty({ description: 'The deployment key. Shown once: only its hash is kept. Send it as X-Api-Key.' })
  apiKey: string;
}

export class RotatedKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The new key, shown once. The previous key stopped working.' }) apiKey: string;
  @ApiProperty() keyPrefix: string;
  @ApiProperty({ format: 'date-time' }) keyRotatedAt: string;
}

export function endpointOf(deploymentId: string): string {
  return `/v1/predict/${deploymentId}`;
}

export function toDeploymentDto(view: DeploymentView): DeploymentDto {
  return {
    id: view.id,
    projectId: view.projectId,
    iterationId: view.iterationId,
    iterationNumber: view.iterationNumber,
    name: view.name,
    endpoint: endpointOf(view.id),
    keyPrefix: view.keyPrefix,
    status: view.status,
    createdAt: view.createdAt,
    keyRotatedAt: view.keyRotatedAt,
    shared: view.shared
      ? { name: view.shared.name, description: view.shared.description, sharedAt: view.shared.sharedAt }
      : null,
    revision: view.revision,
  };
}
