import keras


@keras.saving.register_keras_serializable(package="kvae")
class Dense(keras.layers.Dense):
    """`keras.layers.Dense` whose kernel PyTorch stores in its own (out, in) memory order.

    Same weights, shapes, equations and saved files on every backend; under the torch backend the (in, out) kernel
    is kept column-major (`torch_backend.use_column_major`), where the product x @ W and its two gradients take
    oneDNN/MKL's faster path. kvae uses it for the vocabulary-sized output layers of its text decoders, the largest
    products of a text VAE's step. Off with `KVAE_FAST_PATHS=0` (`kvae.backend.capabilities.column_major_dense`).
    """

    def call(self, inputs, training=None):
        from kvae.backend import capabilities

        if capabilities.column_major_dense():
            from kvae.backend import torch_backend

            torch_backend.use_column_major(self.kernel)
        return super().call(inputs, training=training)
