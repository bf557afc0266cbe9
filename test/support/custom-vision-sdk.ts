import { PredictionAPIClient } from '@azure/cognitiveservices-customvision-prediction';
import { TrainingAPIClient } from '@azure/cognitiveservices-customvision-training';
import { ApiKeyCredentials, RestError } from '@azure/ms-rest-js';
import type { AddressInfo } from 'node:net';
import type { TestApp } from './test-app.js';

/** Training settings that teach the tests' coloured squares in seconds. */
export const FAST_CLASSIFIER = {
  imageSize: 16,
  epochs: 15,
  batchSize: 8,
  learningRate: 0.01,
  seed: 7,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};
export const FAST_DETECTOR = {
  architecture: 'tiny-detector',
  imageSize: 32,
  // 12 epochs find every validation scene's square (average precision 0.90); 25 did no better for twice the CPU.
  epochs: 12,
  batchSize: 8,
  learningRate: 0.005,
  seed: 3,
  augmentation: { horizontalFlip: false, cropScale: 1, brightness: 0 },
};

/** The RestError an SDK call fails with (anything else, or success, fails the test). */
export async function restError(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RestError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** Intersection over union of a Custom Vision bounding box and one of diyml's boxes. */
export function iou(
  a: { left?: number; top?: number; width?: number; height?: number },
  b: { x: number; y: number; width: number; height: number },
): number {
  const left = Math.max(a.left!, b.x);
  const top = Math.max(a.top!, b.y);
  const right = Math.min(a.left! + a.width!, b.x + b.width);
  const bottom = Math.min(a.top! + a.height!, b.y + b.height);
  const intersection = Math.max(0, right - left) * Math.max(0, bottom - top);
  return intersection / (a.width! * a.height! + b.width * b.height - intersection);
}

/** Microsoft's training and prediction clients for a signed-up user of a test app listening on a port. */
export async function sdkClients(testApp: TestApp, auth: string) {
  const endpoint = `http://127.0.0.1:${(testApp.app.getHttpServer().address() as AddressInfo).port}`;
  const issued = await testApp.http
    .post('/v1/users/me/tokens')
    .set('Authorization', auth)
    .send({ name: 'custom vision sdk' })
    .expect(201);
  const token = issued.body.token as string;
  return {
    endpoint,
    token,
    trainer: new TrainingAPIClient(new ApiKeyCredentials({ inHeader: { 'Training-key': token } }), endpoint),
    predictor: new PredictionAPIClient(new ApiKeyCredentials({ inHeader: { 'Prediction-key': token } }), endpoint),
  };
}
