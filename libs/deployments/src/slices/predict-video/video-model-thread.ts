import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorkerThread } from '@diyml/core/pure';
import type { Prediction, PredictOptions } from '@diyml/ml';
import type { FromVideoModelThread, ToVideoModelThread } from './video-model.protocol.js';

/**
 * A worker thread holding one model for the whole of a video prediction (see video-model.worker.ts): the model
 * is loaded once, however many chunks of frames follow, and the job's event loop never runs it.
 */
export class VideoModelThread {
  private constructor(private readonly worker: Worker) {}

  /** Starts the thread and loads the model archive on it. */
  static async open(modelZip: Uint8Array): Promise<VideoModelThread> {
    const thread = new VideoModelThread(startWorkerThread(siblingModule(import.meta.url, 'video-model.worker')));
    try {
      await thread.ask({ type: 'load', modelZip });
    } catch (error) {
      await thread.close();
      throw error;
    }
    return thread;
  }

  /** The predictions of each image, in the order given. */
  async predict(images: Uint8Array[], options: PredictOptions): Promise<Prediction[][]> {
    const answer = await this.ask({ type: 'predict', images, options });
    return answer.type === 'predicted' ? answer.predictions : [];
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private ask(message: ToVideoModelThread): Promise<Exclude<FromVideoModelThread, { type: 'failed' }>> {
    return new Promise((resolve, reject) => {
      const cleanUp = () => {
        this.worker.off('message', onMessage);
        this.worker.off('error', onError);
        this.worker.off('exit', onExit);
      };
      const onMessage = (answer: FromVideoModelThread) => {
        cleanUp();
        if (answer.type === 'failed') reject(new Error(answer.message));
        else resolve(answer);
      };
      const onExit = (code: number) => {
        cleanUp();
        reject(new Error(`the video model thread stopped (exit code ${code})`));
      };
      const onError = (error: Error) => {
        cleanUp();
        reject(error);
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', onError);
      this.worker.on('exit', onExit);
      this.worker.postMessage(message);
    });
  }
}
