import { z } from 'zod';

// The answers of xAI's Imagine API that grokflow reads, validated before use. Loose objects:
// fields xAI adds later are ignored, fields we read must have the documented type.

/** POST /videos/generations and /videos/extensions. */
export const submitAnswer = z.looseObject({ request_id: z.string().min(1) });

/** GET /videos/{request_id}. */
export const videoAnswer = z.looseObject({
  status: z.enum(['pending', 'done', 'expired', 'failed']),
  model: z.string().nullish(),
  progress: z.number().min(0).max(100).nullish(),
  video: z
    .looseObject({
      url: z.url(),
      duration: z.number().nonnegative().nullish(),
      respect_moderation: z.boolean().nullish(),
    })
    .nullish(),
  usage: z.looseObject({ cost_in_usd_ticks: z.number().int().nonnegative().nullish() }).nullish(),
  error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});
export type VideoAnswer = z.infer<typeof videoAnswer>;

/** POST /images/generations (synchronous). */
export const imageAnswer = z.looseObject({
  data: z
    .array(
      z.looseObject({
        url: z.url(),
        revised_prompt: z.string().nullish(),
        respect_moderation: z.boolean().nullish(),
      }),
    )
    .min(1),
  usage: z.looseObject({ cost_in_usd_ticks: z.number().int().nonnegative().nullish() }).nullish(),
});
export type ImageAnswer = z.infer<typeof imageAnswer>;

// The Batch API (docs.x.ai/developers/advanced-api-usage/batch-api), as grokflow reads it.
const batchState = z.looseObject({
  num_requests: z.number().int().nonnegative(),
  num_pending: z.number().int().nonnegative(),
  num_success: z.number().int().nonnegative().nullish(),
  num_error: z.number().int().nonnegative().nullish(),
  num_cancelled: z.number().int().nonnegative().nullish(),
});

/** POST /batches and GET /batches/{id}. */
export const batchAnswer = z.looseObject({ batch_id: z.string().min(1), state: batchState.nullish() });

/** GET /batches/{id}/requests. */
export const batchRequestsAnswer = z.looseObject({
  batch_request_metadata: z.array(z.looseObject({ batch_request_id: z.string(), state: z.string().nullish() })),
  pagination_token: z.string().nullish(),
});

const errorBody = z.looseObject({ code: z.string().nullish(), message: z.string().nullish() });

/** GET /batches/{id}/results: one page of finished requests. */
export const batchResultsAnswer = z.looseObject({
  results: z.array(z.looseObject({
    batch_request_id: z.string(),
    batch_result: z.looseObject({
      response: z.looseObject({ video_generation: videoAnswer.nullish(), image_generation: imageAnswer.nullish() }).nullish(),
      error: errorBody.nullish(),
    }),
  })),
  pagination_token: z.string().nullish(),
});
export type BatchResult = z.infer<typeof batchResultsAnswer>['results'][number];
