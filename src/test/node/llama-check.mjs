// Loads GGUF files in real llama.cpp (node-llama-cpp's prebuilt CPU binary, no network) and answers a job given as a
// JSON file: for each model, its metadata, the token ids of texts (special tokens parsed), greedy continuations of
// prompts (as token ids), next-token probabilities along token sequences, and greedy chat replies through the chat
// template inside the GGUF (node-llama-cpp's chat wrapper for it, no system message, no repeat penalty). Prints one
// JSON object.
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel, LlamaChatSession, resolveChatWrapper} from "node-llama-cpp";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
    progressLogs: false, logLevel: LlamaLogLevel.error});
const results = [];
for (const m of job.models) {
    const model = await llama.loadModel({modelPath: m.path, gpuLayers: 0});
    const out = {path: m.path, metadata: {}, tokens: [], detokenized: [], greedy: [], probabilities: [], chat: [], chatWrapper: null};
    const meta = model.fileInfo.metadata;
    out.metadata = {architecture: meta.general?.architecture, pre: meta.tokenizer?.ggml?.pre,
        chatTemplate: meta.tokenizer?.chat_template ?? null, eos: model.tokens.eos, bos: model.tokens.bos};
    for (const text of job.texts ?? []) {
        const ids = Array.from(model.tokenize(text, true));
        out.tokens.push(ids);
        out.detokenized.push(model.detokenize(ids, true));
    }
    // a float32 KV cache and no flash attention (llama.cpp's defaults here: a float16 cache, flash attention on the CPU,
    // which rounds through float16): an f32 export is then computed in float32 end to end
    const context = await model.createContext({contextSize: job.contextSize ?? 512, batchSize: job.contextSize ?? 512, threads: 1, sequences: 1,
        flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
    for (const prompt of job.greedy ?? []) {
        const seq = context.getSequence();
        const reply = [];
        for await (const t of seq.evaluate(prompt, {temperature: 0})) {
            if (model.isEogToken(t) || reply.length >= job.maxNewTokens) break;
            reply.push(t);
        }
        out.greedy.push(reply);
        seq.dispose();
    }
    for (const sequence of job.probabilities ?? []) {
        const seq = context.getSequence();
        const input = sequence.map(t => [t, {generateNext: {probabilities: true, options: {temperature: 1, topK: 0, topP: 1, minP: 0}}}]);
        const res = await seq.controlledEvaluate(input);
        out.probabilities.push(res.map(r => {
            const p = new Array(model.fileInfo.metadata[meta.general.architecture].vocab_size ?? 0).fill(0);
            for (const [tok, prob] of r.next.probabilities) p[tok] = prob;
            return p;
        }));
        seq.dispose();
    }
    await context.dispose();
    for (const prompt of job.chat ?? []) {  // a fresh context per conversation
        const wrapper = resolveChatWrapper(model, {});
        out.chatWrapper = wrapper?.wrapperName ?? null;
        const chatContext = await model.createContext({contextSize: job.contextSize ?? 512, batchSize: job.contextSize ?? 512, threads: 1,
            sequences: 1, flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
        const session = new LlamaChatSession({contextSequence: chatContext.getSequence(), chatWrapper: wrapper});
        session.setChatHistory([]);  // the session's default system prompt would become a system turn
        out.chat.push(await session.prompt(prompt, {temperature: 0, maxTokens: job.maxNewTokens, repeatPenalty: false}));
        session.dispose();
        await chatContext.dispose();
    }
    await model.dispose();
    results.push(out);
}
process.stdout.write(JSON.stringify({models: results}));
await llama.dispose();
