"""Hand-written reference VAEs for `benchmarks/throughput.py`: the same networks and objectives as kvae's
`TextVAE` and `ImageVAE`, written as minimal training loops in plain PyTorch (`torch_vae`) and plain JAX
(`jax_vae`, a jit-compiled step with a hand-written Adam). Neither module imports Keras or kvae."""
