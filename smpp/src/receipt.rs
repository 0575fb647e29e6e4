//! The de-facto delivery receipt text format (`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`).
