"""Reading a trained model: explanations, their benchmark, model checks, the Learn walkthrough."""
