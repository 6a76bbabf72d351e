"""The LLM providers' HTTP APIs for the tests: fakellm (PyPI) with the two parts
of the public APIs it leaves out, added as the providers serve them.

- `GET /v1/models`: the model list, in OpenAI's shape (`{"object": "list",
  "data": [{"id", "object": "model", "created", "owned_by"}]}`) or, when the
  request carries `anthropic-version`, Anthropic's (`{"data": [{"id", "type":
  "model", "display_name", "created_at"}], "has_more", "first_id", "last_id"}`).
  The ids come from `--models` (comma-separated).
- Usage on OpenAI streams: with `"stream_options": {"include_usage": true}`
  OpenAI sends one last chunk before `[DONE]` with empty `choices` and
  `usage: {prompt_tokens, completion_tokens, total_tokens}`. The counts here
  are the request's and the answer's characters divided by four, rounded up:
  deterministic, and never zero.
- Latency: a request whose last message contains "slowly" waits 1.5 s before
  its answer starts, as a busy provider does (for the waiting indicator).

Run: python provider.py --host 127.0.0.1 --port N --config rules.yaml [--models a,b]
"""



import argparse
import asyncio
import json
import os
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--models", default="")
    args = parser.parse_args()
    # fakellm reads its rules when its server module is imported.
    os.environ["FAKELLM_CONFIG"] = args.config
    from fastapi import Request
    from fastapi.responses import JSONResponse, StreamingResponse
    from fakellm import server
    import uvicorn

    models = [m for m in args.models.split(",") if m]
    app = server.app

    @app.get("/v1/models")
    async def list_models(request: Request):
        if "anthropic-version" in {k.lower() for k in request.headers.keys()}:
            data = [
                {"id": m, "type": "model", "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                for m in models
            ]
            return JSONResponse(
                {
                    "data": data,
                    "has_more": False,
                    "first_id": models[0] if models else None,
                    "last_id": models[-1] if models else None,
                }
            )
        data = [{"id": m, "object": "model", "created": 1735689600, "owned_by": "fakellm"} for m in models]
        return JSONResponse({"object": "list", "data": data})

    # Our /v1/chat/completions goes first, so it is the one that answers.
    async def chat_completions(request: Request):
        body = await request.json()
        messages = body.get("messages") or [{}]
        if "slowly" in str(messages[-1].get("content", "")):
            await asyncio.sleep(1.5)
        response = await server._handle(request, api="openai")
        wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if not (body.get("stream") and wants_usage and isinstance(response, StreamingResponse)):
            return response
        prompt = len(json.dumps(body.get("messages", []))) // 4 + 1

        async def with_usage():
            answer = 0
            async for chunk in response.body_iterator:
                text = chunk if isinstance(chunk, str) else chunk.decode()
                if text.strip() == "data: [DONE]":
                    usage = {
                        "id": "chatcmpl-usage",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": body.get("model", ""),
                        "choices": [],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": answer // 4 + 1,
                            "total_tokens": prompt + answer // 4 + 1,
                        },
                    }
                    yield "data: " + json.dumps(usage) + "\n\n"
                elif text.startswith("data: "):
                    for choice in json.loads(text[6:]).get("choices", []):
                        delta = choice.get("delta") or {}
                        answer += len(delta.get("content") or "")
                        for call in delta.get("tool_calls") or []:
                            answer += len((call.get("function") or {}).get("arguments") or "")
                yield text

        return StreamingResponse(with_usage(), media_type="text/event-stream", headers=dict(response.headers))

    app.router.routes.insert(0, app.router.routes.pop())  # the models route, registered last
    app.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", workers=1)


if __name__ == "__main__":
    sys.exit(main())
