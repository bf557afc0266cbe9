import type { CommandBus } from '@nestjs/cqrs';
import { isDomainError, type RequestContext } from '@diyml/core';
import { DeleteProject } from '@diyml/projects';

/**
 * Deletes the project a failed or interrupted import began (ProjectDeleted: its images and models go as with any
 * deleted project), so a failed import never leaves half a project in its owner's list. 'nothing': its first
 * events were never written (or the read models do not hold them yet); 'kept': the store still refuses, the project
 * stays, incomplete, for its owner to delete.
 */
export async function deleteIncompleteProject(
  commands: CommandBus,
  projectId: string,
  context: RequestContext & { userId: string },
): Promise<{ outcome: 'deleted' | 'nothing' | 'kept'; error?: unknown }> {
  try {
    await commands.execute(new DeleteProject(projectId, undefined, context));
    return { outcome: 'deleted' };
  } catch (error) {
    return isDomainError(error, 'PROJECT_NOT_FOUND') ? { outcome: 'nothing' } : { outcome: 'kept', error };
  }
}
