;;; drive.el --- Drives Emacs + eglot through the shipped kerasfix.el  -*- lexical-binding: t; -*-

;; Run with `emacs --batch -Q -l drive.el'.  Loads editors/emacs/kerasfix.el as a user's init
;; would, opens $KERASFIX_FILE, starts eglot, waits for the flymake diagnostics, asks for the
;; hover (eldoc), applies the quick fix for the first finding (accepting eglot's default choice,
;; as RET does), saves with `kerasfix-fix-all-on-save' on, and writes what it saw to
;; $KERASFIX_RESULT (JSON).

;;; Code:

;; `-Q' skips Debian's site startup, which would put the elpa packages on the load-path.
(dolist (folder (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
  (add-to-list 'load-path folder))
(add-to-list 'load-path (getenv "KERASFIX_EMACS_DIR"))
(require 'json)
(require 'kerasfix)

(defvar drive-result (list (cons 'version emacs-version)
                           (cons 'eglot (if (boundp 'eglot--version) eglot--version ""))))

(defun drive-finish (failure)
  "Write the result with FAILURE (nil when all went well) and exit."
  (push (cons 'failure failure) drive-result)
  (with-temp-file (getenv "KERASFIX_RESULT")
    (insert (json-encode drive-result)))
  (kill-emacs (if failure 1 0)))

(defun drive-wait (predicate seconds)
  "Process events until PREDICATE holds or SECONDS pass; return PREDICATE's value."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun drive-lines ()
  "The buffer's lines, without the empty one after the final newline."
  (split-string (string-trim-right (buffer-substring-no-properties (point-min) (point-max)) "\n") "\n"))

(defun drive-diagnostics ()
  ;; Idle timers never fire in batch mode: start flymake's check by hand.
  (flymake-start)
  (accept-process-output nil 0.05)
  (sort (flymake-diagnostics) (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))

(defun drive ()
  (find-file (getenv "KERASFIX_FILE"))
  (unless (derived-mode-p 'python-mode) (error "Not in python-mode: %s" major-mode))
  (call-interactively #'eglot)
  (unless (drive-wait (lambda () (eglot-managed-p)) 30)
    (error "eglot did not start kerasfix"))
  (unless (drive-wait (lambda () (>= (length (drive-diagnostics)) 2)) 30)
    (error "No flymake diagnostics within 30 s"))
  (let* ((diagnostics (drive-diagnostics))
         (first (car diagnostics)))
    (push (cons 'diagnostics
                (mapcar (lambda (d)
                          (let ((beg (flymake-diagnostic-beg d)) (end (flymake-diagnostic-end d)))
                            (save-excursion
                              (goto-char beg)
                              (list (cons 'text (flymake-diagnostic-text d))
                                    (cons 'type (symbol-name (flymake-diagnostic-type d)))
                                    (cons 'line (1- (line-number-at-pos beg)))
                                    (cons 'column (- beg (line-beginning-position)))
                                    (cons 'end_column (- end (line-beginning-position)))))))
                        diagnostics))
          drive-result)

    (goto-char (flymake-diagnostic-beg first))
    (let (hover)
      (eglot-hover-eldoc-function (lambda (text &rest _) (setq hover (or text ""))))
      (drive-wait (lambda () hover) 10)
      (push (cons 'hover (and hover (substring-no-properties hover))) drive-result))

    ;; Two quick fixes (the fix and a noqa): eglot asks which, by a menu after a mouse event
    ;; and by `completing-read' after a key. Answer as RET does: the default (preferred) one.
    (cl-letf ((last-nonmenu-event ?\r)
              ((symbol-function 'completing-read)
               (lambda (_prompt _collection &optional _predicate _require _initial _history default &rest _)
                 default)))
      ;; As `M-x eglot-code-actions' on the finding (eglot 1.9's `eglot-code-action-quickfix'
      ;; only lists the actions: it does not pass INTERACTIVE on).
      (eglot-code-actions (flymake-diagnostic-beg first) (flymake-diagnostic-end first) nil t)))
  (push (cons 'after_quick_fix (vconcat (drive-lines))) drive-result)

  ;; Idle timers never fire in batch mode: send the quick fix's didChange by hand.
  (eglot--signal-textDocument/didChange)
  (setq kerasfix-fix-all-on-save t)
  (save-buffer)
  (push (cons 'after_fix_all
              (vconcat (with-temp-buffer
                         (insert-file-contents (getenv "KERASFIX_FILE"))
                         (drive-lines))))
        drive-result)
  (drive-finish nil))

(condition-case failure
    (drive)
  (error (drive-finish (error-message-string failure))))

;;; drive.el ends here
