"""The demos' model layer: words, the two heads on the core, the baselines, training, files, flow."""

import threading

import pytest
import torch

from model.cells import GRUCell, cells_like, run_cells
from model.config import ModelConfig
from model.demo_checkpoint import load_demo, save_demo
from model.demo_data import DemoData, is_held_out
from model.demo_models import BagOfWords, NextWordLM, SentimentRNN, WindowLM, build, pad_batch
from model.demo_train import (DemoTrainConfig, next_word_accuracy, sentiment_accuracy,
                              train_network)
from model.errors import ModelError
from model.gradient_flow import gradient_flow
from model.words import START_ID, UNK_ID, WordVocab, tokenize

SMALL = ModelConfig(cell="lstm", embedding_size=8, hidden_size=16, num_layers=1, dropout=0.0)
FACTS = [f"{who} grew up in {country} but lives in {city} now . {pron} speaks {lang} ."
         for who, pron in (("anna", "she"), ("tom", "he"))
         for country, lang in (("france", "french"), ("spain", "spanish"))
         for city in ("boston", "dublin", "sydney")]


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("I'm here. Boston,  FRANCE!") == ["i'm", "here", ".", "boston", ",",
                                                       "france", "!"]
    assert tokenize("") == []
    assert tokenize("x" * 100) == ["x" * 40]


def test_vocab_keeps_reserved_ids_and_maps_unknown_words():
    vocab = WordVocab.from_texts(["the cat sat", "the dog"])
    assert vocab.words[:4] == ["<pad>", "<unk>", "<s>", "the"]
    assert vocab.encode(["the", "zebra"]) == [START_ID, 3, UNK_ID]
    assert vocab.unknown(["the", "zebra", "zebra"]) == ["zebra"]
    assert WordVocab(vocab.words) == vocab
    with pytest.raises(ModelError, match="repeat"):
        WordVocab(["<pad>", "<unk>", "<s>", "a", "a"])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_heads_share_the_core_and_give_one_output_per_step(cell):
    config = ModelConfig(cell=cell, embedding_size=8, hidden_size=16, num_layers=1, dropout=0.0)
    ids = torch.randint(3, 20, (2, 7))
    assert NextWordLM(config, 20)(ids).shape == (2, 7, 20)
    assert SentimentRNN(config, 20)(ids).shape == (2, 7)
    assert type(NextWordLM(config, 20).core) is type(SentimentRNN(config, 20).core)


def test_lstm_heads_start_with_open_forget_gates():
    bias = NextWordLM(SMALL, 20).core.rnn.bias_ih_l0
    assert torch.all(bias[16:32] == 2.0) and not torch.all(bias[:16] == 2.0)


def test_window_baseline_sees_only_the_last_two_words():
    torch.manual_seed(0)
    window = WindowLM(SMALL, 30)
    a = torch.tensor([[2, 5, 6, 7, 8, 9]])
    b = torch.tensor([[2, 11, 12, 13, 8, 9]])
    assert torch.allclose(window(a)[0, -1], window(b)[0, -1])
    c = torch.tensor([[2, 5, 6, 7, 4, 9]])
    assert not torch.allclose(window(a)[0, -1], window(c)[0, -1])


def test_bag_of_words_ignores_order_and_padding():
    bag = BagOfWords(SMALL, 30)
    with torch.no_grad():
        bag.weight.weight.normal_()
    ids, lengths = pad_batch([[2, 5, 6, 7], [2, 7, 6, 5], [2, 5]])
    final = bag(ids)[torch.arange(3), lengths - 1]
    assert torch.isclose(final[0], final[1])
    assert torch.isclose(bag(ids)[2, 1], bag(ids)[2, -1])   # padding adds nothing


def _tiny_data(task, examples):
    return DemoData(task, examples, [], "test")


def test_next_word_lstm_learns_a_long_range_fact_the_window_cannot():
    data = _tiny_data("nextword", FACTS)
    vocab = WordVocab.from_texts(FACTS)
    config = DemoTrainConfig(epochs=60, batch_size=6, learning_rate=2e-2)
    lstm = train_network("nextword", vocab, data, SMALL, config)
    window = train_network("window", vocab, data, SMALL, config)
    assert lstm.losses[-1] < lstm.losses[0]
    assert next_word_accuracy(lstm.network, vocab, FACTS) == 1.0
    assert next_word_accuracy(window.network, vocab, FACTS) <= 0.5


def test_sentiment_rnn_reads_order_the_bag_cannot():
    rows = [(f"the {t} was {a} , not {b} at all", int(a == "good"))
            for t in ("food", "film", "room") for a, b in (("good", "bad"), ("bad", "good"))]
    vocab = WordVocab.from_texts(t for t, _ in rows)
    config = DemoTrainConfig(epochs=80, batch_size=6, learning_rate=2e-2)
    rnn = train_network("sentiment", vocab, _tiny_data("sentiment", rows), SMALL, config)
    bag = train_network("bag", vocab, _tiny_data("sentiment", rows), SMALL, config)
    assert sentiment_accuracy(rnn.network, vocab, rows) == 1.0
    assert sentiment_accuracy(bag.network, vocab, rows) == 0.5


def test_training_is_seeded_and_stops_on_the_flag():
    data = _tiny_data("nextword", FACTS)
    vocab = WordVocab.from_texts(FACTS)
    config = DemoTrainConfig(epochs=2, batch_size=4)
    assert train_network("nextword", vocab, data, SMALL, config).losses == \
        train_network("nextword", vocab, data, SMALL, config).losses
    stop = threading.Event()
    seen = []

    def progress(p):
        seen.append(p.step)
        stop.set()

    result = train_network("nextword", vocab, data, SMALL, config, progress, stop)
    assert result.stopped and seen == [1] and len(result.losses) == 1


def test_training_without_clipping_reports_divergence():
    data = _tiny_data("nextword", FACTS)
    vocab = WordVocab.from_texts(FACTS)
    relu = ModelConfig(cell="rnn_relu", embedding_size=8, hidden_size=16, num_layers=1,
                       dropout=0.0)
    config = DemoTrainConfig(epochs=30, batch_size=4, optimizer="sgd", learning_rate=2.0,
                             grad_clip=None)
    wild = train_network("nextword", vocab, data, relu, config)
    tame = train_network("nextword", vocab, data, relu, DemoTrainConfig(
        epochs=30, batch_size=4, optimizer="sgd", learning_rate=2.0, grad_clip=1.0))
    assert wild.diverged and not tame.diverged
    assert tame.clipped_steps > 0


def test_config_check_names_the_bad_value():
    with pytest.raises(ModelError, match="epochs"):
        DemoTrainConfig(epochs=0).check()
    with pytest.raises(ModelError, match="optimizer"):
        DemoTrainConfig(optimizer="lion").check()


def test_demo_file_round_trip_and_refusals(tmp_path):
    vocab = WordVocab.from_texts(FACTS)
    network = build("sentiment", SMALL, len(vocab))
    path = tmp_path / "s.safetensors"
    save_demo(path, "sentiment", network, vocab, {"steps": 3})
    loaded = load_demo(path, kind="sentiment")
    assert loaded.vocab == vocab and loaded.training == {"steps": 3}
    ids = torch.tensor([vocab.encode(tokenize(FACTS[0]))])
    assert torch.allclose(loaded.network(ids), network(ids))
    with pytest.raises(ModelError, match="not a bag one"):
        load_demo(path, kind="bag")
    (tmp_path / "x.pt").write_bytes(b"\x80\x04garbage pickle")
    with pytest.raises(ModelError, match="pickled"):
        load_demo(tmp_path / "x.pt")


def test_music_model_file_is_refused_as_a_demo(tmp_path):
    from model.checkpoint import save_model
    from model.lm import MusicLM
    from model.vocab import Vocab

    path = tmp_path / "music.safetensors"
    save_model(path, MusicLM(SMALL, 5), Vocab("abcd"))
    with pytest.raises(ModelError, match="not a demo model"):
        load_demo(path)


def test_doctored_demo_file_is_refused(tmp_path):
    import json
    import struct

    vocab = WordVocab.from_texts(FACTS)
    path = tmp_path / "d.safetensors"
    save_demo(path, "nextword", build("nextword", SMALL, len(vocab)), vocab)
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = json.loads(header["__metadata__"]["ceol"])
    meta["vocab"].append("extra")     # one word more than the tensors have rows
    header["__metadata__"]["ceol"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    with pytest.raises(ModelError, match="do not match"):
        load_demo(path)


def test_gru_cell_matches_torch_gru():
    torch.manual_seed(3)
    layer = torch.nn.GRU(5, 7, num_layers=2, batch_first=True)
    cells = cells_like(layer)
    assert all(isinstance(c, GRUCell) for c in cells)
    x = torch.randn(2, 9, 5)
    expected, _ = layer(x)
    got, _ = run_cells(cells, x)
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["nextword", "sentiment"])
def test_gradient_flow_has_one_norm_per_step_and_leaves_the_network_alone(kind):
    torch.manual_seed(0)
    network = build(kind, ModelConfig(cell="rnn_tanh", embedding_size=8, hidden_size=16,
                                      num_layers=1, dropout=0.0), 20)
    ids = [2] + [5, 6, 7, 8] * 5
    norms = gradient_flow(network, ids, 1 if kind == "sentiment" else 9)
    assert len(norms) == len(ids) and all(n >= 0 for n in norms)
    assert norms[0] < norms[-1]     # an untrained tanh RNN: the gradient fades going back
    assert all(p.grad is None for p in network.parameters())


def test_held_out_split_is_deterministic_and_keeps_swapped_pairs_together():
    a, b = "the food was good , not bad", "the food was bad , not good"
    assert is_held_out(a) == is_held_out(b)
    texts = [f"sentence number {i}" for i in range(500)]
    share = sum(map(is_held_out, texts)) / len(texts)
    assert 0.1 < share < 0.3
    assert [is_held_out(t) for t in texts] == [is_held_out(t) for t in texts]
