# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["exercise"] exercise="train_step"
def train_step(model, optimizer, loss_fn, x, y):
    with keras.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = loss_fn(y, y_pred)
    weights = model.trainable_weights
    grads = tape.gradient(loss, weights)
    optimizer.apply_gradients(zip(grads, weights))
    return loss, y_pred


# %% tags=["exercise"] exercise="accuracy_metric"
class MyAccuracy:
    def __init__(self):
        self.reset_state()

    def reset_state(self):
        self.correct = 0
        self.count = 0

    def update_state(self, y_true, y_pred):
        predicted = np.argmax(np.asarray(y_pred), axis=-1)
        self.correct += int(np.sum(predicted == np.asarray(y_true)))
        self.count += len(predicted)

    def result(self):
        return self.correct / self.count


# %% tags=["exercise"] exercise="clip_global_norm"
def clip_by_global_norm(grads, clip):
    norm = np.sqrt(sum(np.sum(np.square(g.numpy())) for g in grads))
    factor = clip / max(norm, clip)
    return [g * factor for g in grads]
