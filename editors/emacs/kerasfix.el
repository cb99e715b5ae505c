;;; kerasfix.el --- Keras 3 migration checks and fixes through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1") (eglot "1.9"))
;; Keywords: languages, tools
;; SPDX-License-Identifier: Apache-2.0

;;; Commentary:

;; Registers the kerasfix language server (`kerasfix server') with eglot for `python-mode' and
;; `python-ts-mode', and adds `kerasfix-fix-all', which applies every kerasfix fix to the buffer.
;;
;;   (add-to-list 'load-path "/path/to/kerasfix/editors/emacs")
;;   (require 'kerasfix)
;;   (add-hook 'python-mode-hook #'eglot-ensure)
;;
;; Diagnostics show through flymake, hovers through eldoc, quick fixes with
;; `eglot-code-actions'.  Fix all on save: (setq kerasfix-fix-all-on-save t).
;;
;; eglot runs one server per buffer: the entry added here comes first in
;; `eglot-server-programs', so kerasfix takes over Python buffers from another Python server.

;;; Code:

(require 'eglot)

(defgroup kerasfix nil
  "Keras 2 -> Keras 3 migration checks and fixes."
  :group 'tools
  :prefix "kerasfix-")

(defcustom kerasfix-command '("kerasfix" "server")
  "The command that runs the kerasfix language server over stdio."
  :type '(repeat string))

(defcustom kerasfix-settings nil
  "Settings sent to the server: a plist with the server's camelCase keys.
For example (:select [\"KER6\"] :unsafeFixes t
:targetBackends [\"jax\" \"torch\"]).
Unset keys come from [tool.kerasfix] in the nearest pyproject.toml."
  :type 'plist)

(defcustom kerasfix-fix-all-on-save nil
  "When non-nil, apply every kerasfix fix before saving a buffer kerasfix checks."
  :type 'boolean)

(defconst kerasfix-fix-all-kind "source.fixAll.kerasfix"
  "The code action kind of the server's fix-all action.")

(defconst kerasfix-major-modes '(python-mode python-ts-mode)
  "The major modes kerasfix checks.")

(defun kerasfix--initialization-options (_server)
  "The initializationOptions for the server: `kerasfix-settings'."
  (list :kerasfix (or kerasfix-settings (make-hash-table))))

(defun kerasfix--contact ()
  "The `eglot-server-programs' contact for kerasfix."
  (append kerasfix-command (list :initializationOptions #'kerasfix--initialization-options)))

;;;###autoload
(defun kerasfix-fix-all ()
  "Apply every kerasfix fix to the current buffer."
  (interactive)
  (eglot-code-actions (point-min) (point-max) kerasfix-fix-all-kind t))

(defun kerasfix--fix-all-before-save ()
  "Run `kerasfix-fix-all' when `kerasfix-fix-all-on-save' is on and there is a fix."
  ;; Asking first keeps a save quiet when there is nothing to fix (or another server runs).
  (when (and kerasfix-fix-all-on-save
             (eglot-code-actions (point-min) (point-max) kerasfix-fix-all-kind))
    (kerasfix-fix-all)))

(defun kerasfix--setup-buffer ()
  "Buffer-local hooks for buffers eglot manages."
  (if (eglot-managed-p)
      (add-hook 'before-save-hook #'kerasfix--fix-all-before-save nil t)
    (remove-hook 'before-save-hook #'kerasfix--fix-all-before-save t)))

;; A function, so that changes to `kerasfix-command' apply to the next server started.
(add-to-list 'eglot-server-programs
             (cons kerasfix-major-modes (lambda (&rest _) (kerasfix--contact))))
(add-hook 'eglot-managed-mode-hook #'kerasfix--setup-buffer)

(provide 'kerasfix)
;;; kerasfix.el ends here
