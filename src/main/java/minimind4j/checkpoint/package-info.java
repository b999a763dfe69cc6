/**
 * Weights as the model needs them, on top of the pure file formats of {@link minimind4j.checkpoint.format}: loading a
 * state dict into a {@link minimind4j.model.MiniMindLM} with a report of what did not fit ({@link
 * minimind4j.checkpoint.Weights}), Hugging Face directory layouts ({@link minimind4j.checkpoint.HfLayouts}), and
 * MiniMind's resume checkpoint with its AdamW state ({@link minimind4j.checkpoint.ResumeCheckpoint}, {@link
 * minimind4j.checkpoint.AdamWStateDict}).
 */
package minimind4j.checkpoint;
