"""Optional benchmark partner: gensim's Word2Vec skip-gram on the same walk corpus and settings.

Usage: python3 gensim_skipgram.py CORPUS.txt DIM RADIUS NEGATIVES THREADS NEGATIVE_POWER
Prints {"tokens_per_s": ...} for one epoch (no subsampling, fixed window like vasg's).
"""
import json
import sys
import time

from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence

corpus, dim, radius, negatives, threads = sys.argv[1], *map(int, sys.argv[2:6])
negative_power = float(sys.argv[6])
sentences = LineSentence(corpus)
model = Word2Vec(vector_size=dim, window=radius, sg=1, hs=0, negative=negatives, min_count=1, sample=0, ns_exponent=negative_power,
                 workers=threads, shrink_windows=False, seed=1)
model.build_vocab(sentences)
start = time.perf_counter()
model.train(sentences, total_examples=model.corpus_count, epochs=1)
seconds = time.perf_counter() - start
print(json.dumps({"tokens_per_s": round(model.corpus_total_words / seconds), "gensim": __import__("gensim").__version__}))
