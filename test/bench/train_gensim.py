#!/usr/bin/python3
"""gensim's side of train_bench.sh: trains Word2Vec (or FastText with --subwords) on a corpus file
of space-separated words, one sentence a line, with the bench's hyperparameters, saves the word
vectors in word2vec text format and prints one line:
  words_per_second train_seconds total_seconds vocabulary peak_rss_kb cpu_seconds
(CPU: the whole process, every thread, as for the other systems)
usage: train_gensim.py CORPUS OUTPUT METHOD DIMS WINDOW MIN_COUNT NEGATIVE EPOCHS THREADS SUBWORDS BUCKETS"""
import resource
import sys
import time

from gensim.models import FastText, Word2Vec


def main():
    corpus, output, method = sys.argv[1:4]
    dims, window, min_count, negative, epochs, threads = map(int, sys.argv[4:10])
    subwords = sys.argv[10] == "true"
    buckets = int(sys.argv[11])
    start = time.monotonic()
    params = dict(vector_size=dims, window=window, min_count=min_count, negative=negative,
                  epochs=epochs, workers=threads, sample=1e-3, sg=1 if method == "skipgram" else 0,
                  alpha=0.025 if method == "skipgram" else 0.05, seed=1)
    if subwords:
        model = FastText(min_n=3, max_n=6, bucket=buckets, **params)
    else:
        model = Word2Vec(**params)
    model.build_vocab(corpus_file=corpus)
    words = model.corpus_total_words
    train_start = time.monotonic()
    model.train(corpus_file=corpus, total_words=words, epochs=epochs)
    train_seconds = time.monotonic() - train_start
    model.wv.save_word2vec_format(output)
    total = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{words * epochs / train_seconds:.0f} {train_seconds:.2f} {total:.2f} "
          f"{len(model.wv)} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.2f}")


if __name__ == "__main__":
    main()
