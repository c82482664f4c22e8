"""FAKE OpenAI images server (no image model runs offline here), built from the OpenAI API reference.

POST /v1/images/generations  JSON {prompt, model?, n?, size?, quality?, response_format?}
POST /v1/images/edits        multipart: image (or image[]), mask?, prompt, model?, n?, size?, response_format?
Response {"created": int, "data": [{"b64_json": ...} | {"url": ...}, ...]}; errors {"error": {message, type,
param, code}} with status 400/401/404. Documented behaviours it reproduces:
- dall-e-2 / dall-e-3 default to `response_format=url`; GPT image models always answer b64_json and reject
  `response_format`. URLs are served by this same server under /files/.
- dall-e-3 accepts only n=1; sizes are checked per model.
- edits: the mask must be a PNG with the image's dimensions; fully transparent (alpha 0) mask pixels mark
  where the image is edited. Here "edited" means painted with the prompt's colour, so a test can see
  that the right mask reached the server.
Generated images are one colour derived from the prompt, so a test can check which prompt produced them.
Each request is recorded; GET /_control/requests returns them (headers and fields, never file bytes).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

from png import decode_png, encode_png, solid_png
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SIZES = {
    "dall-e-2": {"256x256", "512x512", "1024x1024"},
    "dall-e-3": {"1024x1024", "1792x1024", "1024x1792"},
    "gpt-image-1": {"auto", "1024x1024", "1536x1024", "1024x1536"},
}
TEST_SIZES = {"16x16", "32x32", "64x64"}  # tiny sizes so tests stay fast; accepted by every model
FILES: dict[str, bytes] = {}
REQUESTS: list[dict[str, Any]] = []


def prompt_colour(prompt: str) -> tuple[int, int, int, int]:
    """Opaque RGBA colour that the fake uses for a prompt (tests compute the same)."""
    digest = hashlib.sha256(prompt.encode()).digest()
    return digest[0], digest[1], digest[2], 255


def _error(status: int, message: str, param: str | None = None, code: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def _check_auth(request: Request) -> JSONResponse | None:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return _error(401, "You didn't provide an API key.", code="invalid_api_key")
    return None


def _parse_common(fields: dict[str, Any]) -> tuple[dict[str, Any], JSONResponse | None]:
    """Validate model/n/size/response_format; return normalised values or the error to send."""
    model = str(fields.get("model") or "dall-e-2")
    if model not in SIZES:
        return {}, _error(404, f"The model '{model}' does not exist.", "model", "model_not_found")
    try:
        n = int(fields.get("n") or 1)
    except ValueError:
        return {}, _error(400, f"Invalid type for 'n': expected an integer, got {fields.get('n')!r}.", "n")
    if not 1 <= n <= 10 or (model == "dall-e-3" and n != 1):
        return {}, _error(400, f"Invalid 'n': {n}. dall-e-3 supports n=1, others 1-10.", "n")
    size = str(fields.get("size") or "1024x1024")
    if size not in SIZES[model] | TEST_SIZES:
        allowed = ", ".join(sorted(SIZES[model]))
        return {}, _error(400, f"Invalid size '{size}'. Supported sizes are {allowed}.", "size")
    fmt = fields.get("response_format")
    if model.startswith("gpt-image"):
        if fmt is not None:
            return {}, _error(400, "Unknown parameter: 'response_format'.", "response_format", "unknown_parameter")
        fmt = "b64_json"
    fmt = fmt or "url"
    if fmt not in ("url", "b64_json"):
        return {}, _error(400, f"Invalid response_format '{fmt}': use 'url' or 'b64_json'.", "response_format")
    width, height = (1024, 1024) if size == "auto" else (int(p) for p in size.split("x"))
    return {"model": model, "n": n, "width": width, "height": height, "format": fmt}, None


def _respond(request: Request, images: list[bytes], fmt: str, prompt: str) -> JSONResponse:
    data: list[dict[str, Any]] = []
    for png in images:
        if fmt == "b64_json":
            data.append({"b64_json": base64.b64encode(png).decode(), "revised_prompt": prompt})
        else:
            name = f"{uuid.uuid4().hex}.png"
            FILES[name] = png
            data.append({"url": str(request.base_url) + f"files/{name}", "revised_prompt": prompt})
    return JSONResponse({"created": int(time.time()), "data": data})


def _record(request: Request, endpoint: str, fields: dict[str, Any]) -> None:
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    headers["authorization-present"] = str("authorization" in request.headers)
    REQUESTS.append({"endpoint": endpoint, "headers": headers, "fields": fields})


async def generations(request: Request) -> Response:
    """POST /v1/images/generations."""
    if (denied := _check_auth(request)) is not None:
        return denied
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "We could not parse the JSON body of your request.")
    _record(request, "generations", body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return _error(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    opts, err = _parse_common(body)
    if err is not None:
        return err
    png = solid_png(opts["width"], opts["height"], prompt_colour(prompt))
    return _respond(request, [png] * opts["n"], opts["format"], prompt)


async def edits(request: Request) -> Response:
    """POST /v1/images/edits (multipart/form-data)."""
    if (denied := _check_auth(request)) is not None:
        return denied
    form = await request.form()
    fields = {k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)}
    uploads = [v for k, v in form.multi_items() if k in ("image", "image[]") and isinstance(v, UploadFile)]
    mask_upload = form.get("mask")
    _record(request, "edits", {**fields, "image_count": len(uploads), "mask": isinstance(mask_upload, UploadFile)})
    prompt = fields.get("prompt")
    if not prompt:
        return _error(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    if not uploads:
        return _error(400, "Missing required parameter: 'image'.", "image", "missing_required_parameter")
    opts, err = _parse_common(fields)
    if err is not None:
        return err
    try:
        width, height, pixels = decode_png(await uploads[0].read())
    except ValueError as exc:
        return _error(400, f"Invalid image file: {exc}. Supported format: PNG.", "image", "invalid_image_format")
    if isinstance(mask_upload, UploadFile):
        try:
            mw, mh, mask = decode_png(await mask_upload.read())
        except ValueError as exc:
            return _error(400, f"Invalid mask file: {exc}.", "mask", "invalid_image_format")
        if (mw, mh) != (width, height):
            return _error(400, f"Invalid mask: {mw}x{mh} must match the image size {width}x{height}.", "mask")
    else:
        mask = pixels  # no mask: the image's own transparency marks the area to edit
    colour = prompt_colour(prompt)
    edited = [colour if m[3] == 0 else p for p, m in zip(pixels, mask)]
    png = encode_png(width, height, edited)
    return _respond(request, [png] * opts["n"], opts["format"], prompt)


async def serve_file(request: Request) -> Response:
    """GET /files/{name}: where `url` responses point."""
    data = FILES.get(request.path_params["name"])
    if data is None:
        return _error(404, "No such file.")
    return Response(data, media_type="image/png")


async def recorded_requests(request: Request) -> Response:
    """GET /_control/requests: what clients sent (test-only introspection)."""
    return JSONResponse(REQUESTS)


async def health(request: Request) -> Response:
    """GET /health."""
    return JSONResponse({"status": "ok"})


async def models(request: Request) -> Response:
    """GET /v1/models: the image models this fake knows."""
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "fake"} for name in SIZES]
    return JSONResponse({"object": "list", "data": data})


app = Starlette(
    routes=[
        Route("/v1/images/generations", generations, methods=["POST"]),
        Route("/v1/images/edits", edits, methods=["POST"]),
        Route("/v1/models", models),
        Route("/files/{name}", serve_file),
        Route("/_control/requests", recorded_requests),
        Route("/health", health),
    ]
)
