// Member import page: the upload form is sent by htmx (the antiforgery token goes as a header,
// so the server streams the file instead of buffering a form). A refused upload (400, 413)
// comes back as the form with its messages, which htmx is told to show; a file over the limit
// is refused here before it is sent; the upload's own progress shows under the form.
(function () {
    'use strict';

    function fromUploadForm(d) {
        var elt = d.elt || (d.requestConfig && d.requestConfig.elt);
        return (elt && elt.id === 'upload-form') || (d.target && d.target.id === 'upload-card');
    }

    document.body.addEventListener('htmx:beforeSwap', function (e) {
        if (fromUploadForm(e.detail) && (e.detail.xhr.status === 400 || e.detail.xhr.status === 413)) {
            e.detail.shouldSwap = true;
            e.detail.isError = false;
        }
    });

    document.body.addEventListener('htmx:beforeRequest', function (e) {
        var form = e.detail.elt;
        if (!form || form.id !== 'upload-form') {
            return;
        }

        var input = form.querySelector('#file');
        var max = Number(input.dataset.maxBytes || 0);
        var file = input.files && input.files[0];
        var feedback = input.parentElement.querySelector('.invalid-feedback');
        if (file && max > 0 && file.size > max) {
            e.preventDefault();
            input.classList.add('is-invalid');
            feedback.textContent = input.dataset.tooLarge;
            return;
        }

        input.classList.remove('is-invalid');
        var bar = form.querySelector('#upload-progress');
        if (bar && file) {
            bar.value = 0;
            bar.hidden = false;
        }
    });

    document.body.addEventListener('htmx:xhr:progress', function (e) {
        var form = e.detail.elt;
        if (form && form.id === 'upload-form' && e.detail.lengthComputable) {
            var bar = form.querySelector('#upload-progress');
            if (bar) {
                bar.value = Math.round(e.detail.loaded * 100 / e.detail.total);
            }
        }
    });
})();
