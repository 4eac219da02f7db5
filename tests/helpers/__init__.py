"""Test helpers that build models and tokenizers offline (tiny random Qwen3, the real Qwen3 tokenizer from
../shared/qwen). They live under tests/ because only tests use them; the harness package never imports them."""
