import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import { BLUE, colouredSquares, RED } from './support/generated-images.js';
import { restError, sdkClients } from './support/custom-vision-sdk.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';
import { modelZip, tinyClassifier } from './support/tiny-models.js';

// Microsoft's Custom Vision training SDK (5.2.0) asks diyml for suggested tags, as an Azure user would.

describe('Custom Vision suggested tags and regions, driven by the official SDK', () => {
  let testApp: TestApp;
  let trainer: TrainingAPIClient;
  let token: string;
  let projectId: string;
  let iterationId: string;
  let tags: { red: string; blue: string };
  let untagged: string[];

  const native = () => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    const user = await registerAndLogIn(testApp);
    ({ token, trainer } = await sdkClients(testApp, user.auth));

    const project = await trainer.createProject('suggestions');
    projectId = project.id!;
    tags = {
      red: (await trainer.createTag(projectId, 'red')).id!,
      blue: (await trainer.createTag(projectId, 'blue')).id!,
    };
    const squares = [...(await colouredSquares(RED, 3, 1)), ...(await colouredSquares(BLUE, 3, 2))];
    const created = await trainer.createImagesFromData(projectId, squares[0]);
    untagged = [created.images![0].image!.id!];
    for (const bytes of squares.slice(1))
      untagged.push((await trainer.createImagesFromData(projectId, bytes)).images![0].image!.id!);
    const imported = await testApp.http
      .post(`/v1/projects/${projectId}/models`)
      .set(native())
      .attach('model', modelZip(await tinyClassifier(['red', 'blue'])), 'model.zip')
      .expect(201);
    iterationId = imported.body.id;
  }, 240_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('suggests tags for untagged images, then queries and counts them by tag and threshold', async () => {
    const suggested = await trainer.suggestTagsAndRegions(projectId, iterationId, untagged);
    expect(suggested.map((suggestion) => suggestion.id).sort()).toEqual([...untagged].sort());
    for (const suggestion of suggested) {
      expect(suggestion).toMatchObject({ project: projectId, iteration: iterationId });
      expect(suggestion.created).toBeInstanceOf(Date);
      expect(suggestion.predictions!.map((prediction) => prediction.tagName).sort()).toEqual(['blue', 'red']);
      expect(suggestion.predictions!.map((prediction) => prediction.tagId).sort()).toEqual(
        [tags.red, tags.blue].sort(),
      );
      expect(suggestion.predictions![0].probability! + suggestion.predictions![1].probability!).toBeCloseTo(1, 4);
      expect(suggestion.predictionUncertainty).toBeGreaterThan(0);
    }
    const redProbability = new Map(
      suggested.map((s) => [s.id!, s.predictions!.find((p) => p.tagId === tags.red)!.probability!]),
    );
    const threshold = [...redProbability.values()].sort()[2];
    const expectedRed = [...redProbability]
      .filter(([, probability]) => probability >= threshold)
      .map(([id]) => id)
      .sort();

    const counts = await trainer.querySuggestedImageCount(projectId, iterationId, { tagIds: [tags.red], threshold });
    expect(counts[tags.red]).toBe(expectedRed.length);
    const everyTag = await trainer.querySuggestedImageCount(projectId, iterationId, {});
    expect(everyTag).toMatchObject({ [tags.red]: 6, [tags.blue]: 6 });

    const firstPage = await trainer.querySuggestedImages(projectId, iterationId, {
      tagIds: [tags.red],
      threshold,
      maxCount: 2,
      sortBy: 'UncertaintyAscending',
    });
    expect(firstPage.results).toHaveLength(2);
    expect(firstPage.results![0].predictionUncertainty!).toBeLessThanOrEqual(
      firstPage.results![1].predictionUncertainty!,
    );
    expect(firstPage.results![0]).toMatchObject({ width: 16, height: 16, project: projectId, iteration: iterationId });
    expect(firstPage.results![0].originalImageUri).toContain(`/v1/projects/${projectId}/images/`);
    const seen = firstPage.results!.map((result) => result.id!);
    let pageToken = firstPage.token!;
    while (pageToken.continuation) {
      const next = await trainer.querySuggestedImages(projectId, iterationId, pageToken);
      seen.push(...next.results!.map((result) => result.id!));
      pageToken = next.token!;
    }
    expect(seen.sort()).toEqual(expectedRed);
  }, 240_000);

  it('answers with Custom Vision errors for an unknown iteration, another project’s image and no images', async () => {
    const unknownIteration = await restError(
      trainer.suggestTagsAndRegions(projectId, '00000000-0000-4000-8000-000000000000', untagged.slice(0, 1)),
    );
    expect(unknownIteration.statusCode).toBe(404);
    expect(unknownIteration.code).toBe('NotFoundIteration');
    const other = await trainer.createProject('other');
    const foreign = (await trainer.createImagesFromData(other.id!, (await colouredSquares(RED, 1, 5))[0])).images![0]
      .image!.id!;
    const foreignImage = await restError(trainer.suggestTagsAndRegions(projectId, iterationId, [foreign]));
    expect(foreignImage.statusCode).toBe(404);
    expect(foreignImage.code).toBe('NotFoundImage');
    const none = await restError(trainer.suggestTagsAndRegions(projectId, iterationId, []));
    expect(none.statusCode).toBe(400);
    expect(none.code).toBe('BadRequestImageBatch');
    const count = await restError(
      trainer.querySuggestedImageCount(projectId, '00000000-0000-4000-8000-000000000000', {}),
    );
    expect(count.code).toBe('NotFoundIteration');
  });
});
